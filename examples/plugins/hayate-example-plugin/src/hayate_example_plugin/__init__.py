"""An example third-party Hayate plugin."""
