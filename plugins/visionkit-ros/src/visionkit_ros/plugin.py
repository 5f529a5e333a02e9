"""The plugin module named by the ``visionkit`` entry point: registers ``ros``.

It uses only visionkit's public plugin API (``hookimpl`` and
:class:`~visionkit.specs.AdapterSpec`) and imports the adapter, and with it
roslibpy and Twisted, only when one is created, so listing plugins stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from visionkit import hookimpl
from visionkit.specs import AdapterSpec

if TYPE_CHECKING:
    from visionkit_ros.adapter import RosAdapter

__all__ = ["create_ros_adapter", "visionkit_register_adapters"]


def create_ros_adapter(out_dir: str | Path | None = None, **options: Any) -> RosAdapter:
    """Create the ``ros`` adapter; see :class:`visionkit_ros.options.RosOptions`."""
    from visionkit_ros.adapter import RosAdapter

    return RosAdapter(out_dir, **options)


@hookimpl
def visionkit_register_adapters() -> list[AdapterSpec]:
    """Register the ``ros`` adapter."""
    return [
        AdapterSpec(
            "ros",
            create_ros_adapter,
            "Publish each plate's accepted root tips to ROS through rosbridge "
            "(geometry_msgs/PoseArray and a JSON std_msgs/String).",
        )
    ]
