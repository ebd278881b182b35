"""The live stream's HTTP response: Server-Sent Events through ``sse-starlette``.

Heartbeat comments keep proxies from closing an idle stream; a send that the client's socket does
not accept within ``send_timeout_s`` disconnects it, and so does the hub dropping it for falling
behind, so a slow reader costs the others nothing. Whatever ends the stream, the client leaves the
hub. One stream per connection: when the stream ends, so does the connection.
"""

from __future__ import annotations

import logging

from sse_starlette import EventSourceResponse, ServerSentEvent
from sse_starlette.sse import SendTimeoutError
from starlette.types import Receive, Scope, Send

from gateway.live.hub import SEP, ClientDropped, EventHub, Subscription

log = logging.getLogger(__name__)


def heartbeat() -> ServerSentEvent:
    return ServerSentEvent(comment="heartbeat", sep=SEP)


class LiveStreamResponse(EventSourceResponse):
    def __init__(
        self,
        hub: EventHub,
        subscription: Subscription,
        *,
        heartbeat_s: float,
        send_timeout_s: float,
        lifetime_s: float,
    ) -> None:
        super().__init__(
            subscription.events(lifetime_s),
            ping=heartbeat_s,
            ping_message_factory=heartbeat,
            sep=SEP,
            send_timeout=send_timeout_s,
        )
        self.headers["Connection"] = "close"
        self.hub = hub
        self.subscription = subscription
        self.send_timeout_s = send_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except SendTimeoutError:
            log.warning("live-stream client not reading for %.0fs; disconnected", self.send_timeout_s)
            if not self.subscription.dropped:
                self.subscription.dropped = True
                self.hub.on_drop()
        except ClientDropped:
            pass  # counted by the hub; the cut connection tells the client to resume
        except OSError:
            pass  # the client went away mid-write
        finally:
            self.hub.unsubscribe(self.subscription)
