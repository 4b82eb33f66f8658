"""URL normalisation for article identity: the same article behind different tracking links."""

from __future__ import annotations

from urllib.parse import unquote_plus, urlsplit, urlunsplit

# Query parameters that only say how a reader arrived; two links differing only in these are
# the same article.
_TRACKING_EXACT = frozenset({
    "fbclid", "gclid", "dclid", "gclsrc", "msclkid", "yclid", "twclid", "igshid", "mc_cid", "mc_eid",
    "ref_src", "ref_url", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id",
    "wickedid", "__s", "s_cid", "at_medium", "at_campaign", "ito", "xtor", "ncid", "sr_share",
})
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_url(url: str) -> str:
    """A canonical form of an article URL, used as its identity.

    Lower-case scheme and host, no default port, no fragment, an empty path becomes "/", and
    tracking parameters (utm_*, fbclid, gclid, mc_cid, ...) removed. Other parameters keep their
    order and their exact encoding: some sites route on them and re-encoding could change them.
    Anything that is not a parseable http(s) URL is returned stripped but otherwise unchanged.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return url
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{host}" if userinfo else host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{netloc}:{port}"
    kept = [p for p in parts.query.split("&") if p and not _is_tracking(p)]
    return urlunsplit((scheme, netloc, parts.path or "/", "&".join(kept), ""))


def _is_tracking(param: str) -> bool:
    name = unquote_plus(param.partition("=")[0]).strip().lower()
    return name in _TRACKING_EXACT or name.startswith(_TRACKING_PREFIXES)
