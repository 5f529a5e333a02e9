"""The ``ros`` output adapter: each plate's root tips, published to ROS through rosbridge.

For each prediction it publishes, over one rosbridge connection kept open for
the run:

``targets_topic`` (``/visionkit/targets``), ``geometry_msgs/PoseArray``
    the accepted tips in the robot frame (metres, from the prediction's
    calibration), ``header.frame_id`` the ``frame_id`` option;
``tips_topic`` (``/visionkit/tips``), ``std_msgs/String``
    JSON in ``data``: the image, the model, each accepted tip's plant number,
    confidence, robot and pixel coordinates (in the poses' order), and the
    plants left out with the reason.

See :mod:`visionkit_ros.messages` for the fields and
:mod:`visionkit_ros.connection` for reconnecting and delivery checks. The
adapter writes no files: the prediction's other adapters (``json``, ``csv``)
keep their own outputs.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

from visionkit import Prediction
from visionkit.adapters.base import BaseAdapter
from visionkit_ros.connection import Outgoing, RosbridgeLink
from visionkit_ros.messages import POSE_ARRAY, STRING, PlateMessages, Stamp, plate_messages
from visionkit_ros.options import RosOptions

__all__ = ["RosAdapter"]

logger = logging.getLogger(__name__)


class RosAdapter(BaseAdapter):
    """Publishes each plate's accepted root tips to ROS through rosbridge.

    Args:
        out_dir: ignored (the adapter writes no files); taken because
            visionkit creates every adapter with one.
        **options: see :class:`~visionkit_ros.options.RosOptions`; unset
            ones come from ``VISIONKIT_ROS_<OPTION>`` variables, then the
            defaults.

    Raises:
        AdapterError: an option is unknown or invalid. Nothing connects
            until the first :meth:`write`.
    """

    name = "ros"

    def __init__(self, out_dir: str | os.PathLike[str] | None = None, **options: Any) -> None:
        self.options = RosOptions.from_mapping(options)
        self.link = RosbridgeLink(self.options)
        #: What each delivered plate published, in order (for callers and tests).
        self.sent: list[PlateMessages] = []

    def messages(self, prediction: Prediction, stamp: Stamp | None = None) -> PlateMessages:
        """The two messages :meth:`write` would publish for ``prediction`` (sends nothing).

        Raises:
            AdapterError: the prediction has no robot coordinates (predict
                with ``--calibration``), or they are in several frames.
        """
        stamp = stamp if stamp is not None else Stamp.from_ns(time.time_ns())
        return plate_messages(prediction, self.options, stamp)

    def write(self, prediction: Prediction) -> None:
        """Publish the plate's pose array and tips message, confirmed by the bridge.

        Raises:
            AdapterError: the prediction cannot be turned into targets (no
                calibration), or rosbridge could not be reached or did not
                confirm after every reconnection: the message names
                ``ws://host:port`` and the attempts.
        """
        plate = self.messages(prediction)
        outgoing = [
            Outgoing(self.options.targets_topic, POSE_ARRAY, plate.targets),
            Outgoing(self.options.tips_topic, STRING, plate.tips),
        ]
        attempt = self.link.deliver(outgoing, prediction.image)
        self.sent.append(plate)
        logger.info(
            "%s: %d target(s) published to %s on %s (%d plant(s) skipped%s)",
            prediction.image,
            len(plate.accepted),
            self.link.url,
            self.options.targets_topic,
            len(plate.skipped),
            f", attempt {attempt}" if attempt > 1 else "",
        )

    def close(self) -> None:
        """Unadvertise the topics and close the rosbridge connection; safe to call twice."""
        self.link.close()
