"""One router per resource: health, camera, settings, capture, captures, stream, viewer."""
