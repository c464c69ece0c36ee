"""Which kind of device a click came from, read from its user agent: what a campaign manager asks ("did people
open it on their phones?"), not a full user-agent parser.

iPadOS Safari asks for desktop pages and sends a Mac user agent, so those iPads count as desktop.
"""

ANDROID, IOS, DESKTOP, OTHER = "android", "ios", "desktop", "other"
DEVICE_NAMES = {ANDROID: "Android", IOS: "iPhone / iPad", DESKTOP: "Desktop", OTHER: "Other"}

_IOS_WORDS = ("iphone", "ipad", "ipod")
_DESKTOP_WORDS = ("windows nt", "macintosh", "mac os x", "x11", "cros", "linux x86_64")


def device_of(user_agent: str) -> str:
    agent = user_agent.lower()
    if any(word in agent for word in _IOS_WORDS):
        return IOS
    if "android" in agent:
        return ANDROID
    if any(word in agent for word in _DESKTOP_WORDS):
        return DESKTOP
    return OTHER
