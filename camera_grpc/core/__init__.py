"""The core layer: the controller, live-frame fan-out, capture storage and image encoding (transport-neutral)."""
