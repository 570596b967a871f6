"""``python -m camera_grpc``: same as the ``camera-grpc`` command."""

import sys

from camera_grpc.cli import main

sys.exit(main())
