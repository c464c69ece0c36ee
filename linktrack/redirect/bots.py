"""Tell link-preview fetchers and crawlers from people: they are recorded, flagged and left out of counts."""

import re

from crawlerdetect import CrawlerDetect

# Agents crawlerdetect does not flag but that fetch links without a person clicking.
_PROJECT_LIST = re.compile(
    "|".join(
        [
            r"WhatsApp",
            r"facebookexternalhit",
            r"Facebot",
            r"TelegramBot",
            r"Slackbot",
            r"Twitterbot",
            r"Discordbot",
            r"SkypeUriPreview",
            r"bitlybot",
            r"Googlebot",
            r"Applebot",
            r"^curl/",
            r"python-requests",
            r"^Wget/",
            # Samsung Messages fetches previews as an old desktop Firefox 24 that no public list flags.
            r"rv:24\.0\) Gecko/20100101 Firefox/24\.0$",
        ]
    ),
    re.IGNORECASE,
)

# One detector per process: building one costs ~100x more than a lookup.
_detector = CrawlerDetect()


def is_bot(user_agent: str, method: str = "GET") -> bool:
    if method.upper() == "HEAD" or not user_agent.strip():
        return True
    if _PROJECT_LIST.search(user_agent):
        return True
    return bool(_detector.isCrawler(user_agent))
