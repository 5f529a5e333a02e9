"""visionkit-ros: publish visionkit's root tips to ROS through rosbridge.

Installing this package adds the ``ros`` output adapter to visionkit through
the ``visionkit`` entry-point group; nothing needs configuring when rosbridge
listens on 127.0.0.1:9090. For each plate the adapter publishes a
``geometry_msgs/PoseArray`` of the accepted tips in the robot frame and a
``std_msgs/String`` with each tip's plant number and confidence (JSON).

This module stays light: importing it (which ``visionkit plugins`` does)
imports nothing but the standard library.
"""

from __future__ import annotations

from importlib import metadata

__all__ = ["__version__"]

try:
    __version__ = metadata.version("visionkit-ros")
except metadata.PackageNotFoundError:  # pragma: no cover - only from a bare source tree
    __version__ = "0+unknown"
