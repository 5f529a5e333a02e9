"""The ``mqtt`` output adapter: publish each prediction and its accepted tips to a broker.

What is published is described in :mod:`visionkit_mqtt.messages`; how, in
:class:`~visionkit_mqtt.options.MqttOptions` (options and
``VISIONKIT_MQTT_<NAME>`` variables) and
:class:`~visionkit_mqtt.options.Security` (credentials and TLS, from the
environment only).

Delivery. The adapter connects on its first prediction (so creating it never
fails for a broker that is down, and the other adapters' files do not wait
for it) and keeps one connection for the run. With QoS 1 or 2 it waits for
the broker's acknowledgement of every message (``wait_for_publish`` within
``timeout_s``): when :meth:`MqttAdapter.write` returns, the broker has them
all. With QoS 0 it waits until each message is handed to the network.

When the broker is down or slow (refused connection, no CONNACK or no
acknowledgement within ``timeout_s``, a dropped connection) the adapter
reconnects and sends again what was not acknowledged, up to ``retries``
attempts in total, waiting ``backoff_s``, ``2 * backoff_s``,
``4 * backoff_s``... between them. After the last one it raises an
:class:`~visionkit.exceptions.AdapterError` that names the endpoint
(``mqtt://host:port``, or ``mqtts://`` with TLS), the attempts, the messages
that were not delivered and the last error; each failed attempt is logged as
a warning. A broker that refuses the credentials, or a certificate that does
not verify, is not retried: trying again cannot help. With QoS 1 a message
may arrive twice when a connection drops before its acknowledgement (MQTT's
"at least once"); subscribers key on the topic.
"""

from __future__ import annotations

import logging
import os
import secrets
import ssl
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from visionkit.adapters.base import BaseAdapter
from visionkit.exceptions import AdapterError
from visionkit.prediction import Prediction
from visionkit_mqtt.messages import Message, prediction_messages
from visionkit_mqtt.options import MqttOptions, Security

if TYPE_CHECKING:
    from paho.mqtt.client import Client

__all__ = ["MqttAdapter"]

logger = logging.getLogger(__name__)

#: CONNACK reason codes (as paho reports them, MQTT 5 numbering) that mean the
#: broker refused who we are: retrying with the same credentials cannot help.
_REFUSED_IDENTITY = {134: "bad user name or password", 135: "not authorized"}


class _AttemptError(Exception):
    """One connection or delivery attempt failed in a way that may pass (retried)."""


class MqttAdapter(BaseAdapter):
    """Publishes each prediction's contract JSON, and one message per accepted tip, over MQTT.

    Args:
        out_dir: ignored (the adapter writes no files); accepted because
            visionkit creates every adapter with it.
        **options: see :class:`~visionkit_mqtt.options.MqttOptions`; any not
            given are read from ``VISIONKIT_MQTT_<NAME>``.

    Raises:
        AdapterError: an option is unknown or invalid, or a credential or TLS
            variable is (see :meth:`~visionkit_mqtt.options.Security.from_environ`).
    """

    name = "mqtt"

    def __init__(self, out_dir: str | os.PathLike[str] | None = None, **options: Any) -> None:
        del out_dir  # nothing is written to disk
        self.options = MqttOptions.from_mapping(options)
        self.security = Security.from_environ()
        self.client_id = self.options.client_id or f"visionkit-{secrets.token_hex(6)}"
        scheme = "mqtts" if self.security.tls else "mqtt"
        #: ``mqtt://host:port``: where messages go, as errors and logs name it.
        self.endpoint = f"{scheme}://{self.options.host}:{self.options.port}"
        #: Messages the broker acknowledged (QoS 1, 2) or that were sent (QoS 0).
        self.delivered = 0
        #: Connections made (more than one means the adapter reconnected).
        self.connections = 0
        self._client: Client | None = None

    def write(self, prediction: Prediction) -> None:
        """Publish one prediction's messages, reconnecting with backoff when the broker is down.

        Raises:
            AdapterError: the prediction holds NaN; the broker refused the
                credentials or its certificate did not verify; or the messages
                were not all delivered after ``retries`` attempts. The message
                names the endpoint, the attempts and what was not delivered.
        """
        options = self.options
        pending = prediction_messages(
            prediction,
            prefix=options.prefix,
            threshold=options.threshold,
            clear_rejected=options.retain,
        )
        messages, total = pending, len(pending)
        last = "no attempt made"
        for attempt in range(1, options.retries + 1):
            if attempt > 1:
                time.sleep(options.backoff_s * 2 ** (attempt - 2))
            try:
                client = self._connected()
                pending, error = self._publish(client, pending)
                if pending:
                    raise _AttemptError(f"{len(pending)} message(s) not delivered: {error}")
            except _AttemptError as exc:
                last = str(exc)
                self._drop()
                logger.warning(
                    "MQTT broker %s: attempt %d/%d for %s failed: %s",
                    self.endpoint,
                    attempt,
                    options.retries,
                    prediction.image,
                    last,
                )
                continue
            logger.info(
                "%s: published the prediction and %d tip(s) to %s under %s/ (qos %d%s)",
                prediction.image,
                sum(1 for m in messages if m.data) - 1,
                self.endpoint,
                options.prefix,
                options.qos,
                ", retained" if options.retain else "",
            )
            return
        topics = ", ".join(m.topic for m in pending)
        raise AdapterError(
            f"MQTT broker {self.endpoint}: {prediction.image} not delivered after "
            f"{options.retries} attempt(s); {len(pending)} of {total} message(s) undelivered "
            f"({topics}); last error: {last}; check that the broker is running and reachable "
            f"(options host, port or VISIONKIT_MQTT_HOST, VISIONKIT_MQTT_PORT)"
        )

    def close(self) -> None:
        """Disconnect from the broker cleanly; safe to call twice."""
        client, self._client = self._client, None
        if client is None:
            return
        client.disconnect()
        client.loop_stop()
        logger.debug("MQTT broker %s: disconnected", self.endpoint)

    # -- connection

    def _connected(self) -> Client:
        """The live client, connecting first when there is none (or it dropped)."""
        if self._client is not None and self._client.is_connected():
            return self._client
        self._drop()
        self._client = self._connect()
        return self._client

    def _connect(self) -> Client:
        """A client connected to the broker, its network loop running in a thread.

        Raises:
            _AttemptError: refused, unreachable, or no CONNACK in ``timeout_s``.
            AdapterError: the broker refused the credentials, or its
                certificate did not verify (not worth retrying).
        """
        from paho.mqtt.client import Client, MQTTv311
        from paho.mqtt.enums import CallbackAPIVersion

        options, security = self.options, self.security
        client = Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=MQTTv311,
            reconnect_on_failure=False,  # this adapter retries, with its own bound
        )
        client.enable_logger(logging.getLogger(f"{__name__}.paho"))
        client.connect_timeout = options.timeout_s
        if security.username is not None:
            client.username_pw_set(security.username, security.password)
        if security.tls:
            client.tls_set(
                ca_certs=security.ca_file, certfile=security.cert_file, keyfile=security.key_file
            )
        answered = threading.Event()
        outcome: dict[str, Any] = {}

        def on_connect(
            client: Client, userdata: Any, flags: Any, reason: Any, properties: Any
        ) -> None:
            outcome["reason"] = reason
            answered.set()

        def on_disconnect(
            client: Client, userdata: Any, flags: Any, reason: Any, properties: Any
        ) -> None:
            answered.set()  # closed before (or instead of) a CONNACK: stop waiting

        client.on_connect = on_connect
        client.on_disconnect = on_disconnect
        try:
            client.connect(options.host, options.port, keepalive=options.keepalive)
        except ssl.SSLCertVerificationError as exc:
            raise AdapterError(
                f"MQTT broker {self.endpoint}: its TLS certificate does not verify "
                f"({exc.verify_message}); set VISIONKIT_MQTT_CA_FILE to the CA that signed it"
            ) from exc
        except (OSError, ValueError) as exc:  # refused, unreachable, timed out, bad name
            raise _AttemptError(f"cannot connect: {type(exc).__name__}: {exc}") from exc
        client.loop_start()
        if not answered.wait(options.timeout_s) or "reason" not in outcome:
            what = "closed the connection" if answered.is_set() else "did not answer"
            client.disconnect()
            client.loop_stop()
            raise _AttemptError(f"the broker {what} within {options.timeout_s:g} s of CONNECT")
        reason = outcome["reason"]
        if reason.is_failure:
            client.disconnect()
            client.loop_stop()
            refused = _REFUSED_IDENTITY.get(reason.value)
            if refused is not None:
                raise AdapterError(
                    f"MQTT broker {self.endpoint} refused the connection ({refused}) for "
                    f"{self.security.describe()}; check VISIONKIT_MQTT_USERNAME and "
                    f"VISIONKIT_MQTT_PASSWORD and the broker's access rules"
                )
            raise _AttemptError(f"the broker refused the connection: {reason}")
        self.connections += 1
        logger.info(
            "mqtt: connected to %s as %s (%s)",
            self.endpoint,
            self.client_id,
            self.security.describe(),
        )
        return client

    def _drop(self) -> None:
        """Forget a dead or half-made connection, without waiting on it."""
        client, self._client = self._client, None
        if client is not None:
            client.disconnect()
            client.loop_stop()

    # -- publishing

    def _publish(self, client: Client, messages: Sequence[Message]) -> tuple[list[Message], str]:
        """Publish ``messages`` and wait, within ``timeout_s``, until the broker has them.

        Returns:
            ``(the messages not delivered, why)``; an empty list when all were.
        """
        options = self.options
        sent = [
            (m, client.publish(m.topic, m.payload, qos=options.qos, retain=options.retain))
            for m in messages
        ]
        deadline = time.monotonic() + options.timeout_s
        undelivered: list[Message] = []
        error = ""
        for message, info in sent:
            try:
                info.wait_for_publish(max(0.0, deadline - time.monotonic()))
                published = info.is_published()
            except (RuntimeError, ValueError) as exc:  # not queued: no connection, full queue
                published, error = False, error or str(exc)
            if published:
                self.delivered += 1
                logger.debug("MQTT broker %s: delivered %s", self.endpoint, message.topic)
            else:
                undelivered.append(message)
        return undelivered, error or f"no acknowledgement within {options.timeout_s:g} s"
