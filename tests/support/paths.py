"""Where the repository is."""

from pathlib import Path

#: The repository's top folder.
REPO_ROOT = Path(__file__).resolve().parents[2]
