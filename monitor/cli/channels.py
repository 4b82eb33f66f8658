"""`monitor check --channels` and `monitor send-test --channel NAME`.

A channel is named by its `name` and where its URL comes from ($VARIABLE or file), never by the
URL: the URL is the credential.
"""

from __future__ import annotations

from monitor.config.channels import ChannelConfig
from monitor.config.types import Config
from monitor.errors import ConfigError


def check_channels(config: Config) -> int:
    """Read each channel's URL and have Apprise parse it; nothing is posted. Failures counted."""
    from monitor.delivery.channels import describe

    failures = 0
    if not config.channels:
        print("channel: none configured")
    for channel in config.channels:
        try:
            target = describe(channel.url())
        except ConfigError as exc:
            print(f"channel FAIL {channel.name} ({channel.source}): {exc.reason}")
            failures += 1
            continue
        if target is None:
            print(f"channel FAIL {channel.name} ({channel.source}): not a URL Apprise knows "
                  "(see https://github.com/caronc/apprise/wiki for each service's URL)")
            failures += 1
            continue
        uses = ["alerts"] if channel.alerts else []
        uses += [f"digest {d}" for d in channel.digests]
        print(f"channel ok   {channel.name} ({channel.source}): {target.service}, posts up to "
              f"{target.max_chars} characters; {', '.join(uses) or 'nothing routed here yet'}")
    return failures


async def send_channel_test(config: Config, name: str) -> int:
    """Post a short test message straight to one channel (not through the outbox)."""
    from monitor.digest.build import RenderContext
    from monitor.digest.chat import render_chat_test
    from monitor.service.channel_flush import post_now

    channel = _named(config, name)
    post = render_chat_test(RenderContext(language=config.language, timezone=config.timezone,
                                          templates_dir=config.templates_dir, sender=config.smtp.sender,
                                          list_id="monitor"))
    result = await post_now(channel, post.title, post.body)
    if result.ok:
        print(f"test message accepted by channel {channel.name}")
        return 0
    kind = "refused" if result.permanent else "failed (temporary)"
    print(f"test message {kind} by channel {channel.name} ({channel.source}): {result.reason}")
    return 1


def _named(config: Config, name: str) -> ChannelConfig:
    for channel in config.channels:
        if channel.name == name:
            return channel
    known = ", ".join(c.name for c in config.channels) or "none configured"
    raise ConfigError(str(config.path), "channels", f"no channel named {name!r} (known: {known})")
