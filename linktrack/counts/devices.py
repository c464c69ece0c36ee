"""Which kind of device a click came from, read from its user agent: what a campaign manager asks ("did people
open it on their phones?"), not a full user-agent parser.

iPadOS Safari asks for desktop pages and sends a Mac user agent, so those iPads count as desktop.
"""

ANDROID, IOS, DESKTOP, OTHER = "android", "ios", "desktop", "other"
DEVICE_NAMES = {ANDROID: "Android", IOS: "iPhone / iPad", DESKTOP: "Desktop", OTHER: "Other"}

# The words that tell each kind of device, in the order they are looked for (an iPad's agent also says "Mac OS X").
DEVICE_WORDS = (
    (IOS, ("iphone", "ipad", "ipod")),
    (ANDROID, ("android",)),
    (DESKTOP, ("windows nt", "macintosh", "mac os x", "x11", "cros", "linux x86_64")),
)


def device_of(user_agent: str) -> str:
    agent = user_agent.lower()
    for device, words in DEVICE_WORDS:
        if any(word in agent for word in words):
            return device
    return OTHER
