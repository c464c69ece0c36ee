"""Link-preview fetchers and crawlers are flagged; people on phones are not."""

import pytest

from linktrack.redirect.bots import is_bot

PREVIEW_AND_CRAWLER_AGENTS = {
    "WhatsApp": "WhatsApp/2.23.20.0 A",
    "WhatsApp (iOS)": "WhatsApp/2.24.8.78 i",
    "Signal (as WhatsApp)": "WhatsApp",
    "facebookexternalhit": "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "iMessage": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_1) AppleWebKit/601.2.4 (KHTML, like Gecko) "
    "Version/9.0.1 Safari/601.2.4 facebookexternalhit/1.1 Facebot Twitterbot/1.0",
    "Telegram": "TelegramBot (like TwitterBot)",
    "Slack": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Twitter": "Twitterbot/1.0",
    "Discord": "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "Skype": "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5 skype-url-preview@microsoft.com",
    "bitly": "bitlybot/3.0 (+http://bit.ly/)",
    "Googlebot": "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Googlebot smartphone": "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.6478.126 Mobile Safari/537.36 (compatible; Googlebot/2.1; "
    "+http://www.google.com/bot.html)",
    "Applebot": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
    "curl": "curl/8.5.0",
    "python-requests": "python-requests/2.32.3",
    "Wget": "Wget/1.21.4",
    "Samsung Messages preview": "Mozilla/5.0 (Windows NT 6.1; WOW64; rv:24.0) Gecko/20100101 Firefox/24.0",
    "empty agent": "",
}

PHONE_BROWSERS = {
    "Chrome on Android": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36",
    "Samsung Internet": "Mozilla/5.0 (Linux; Android 13; SM-A536E) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
    "Safari on iPhone": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Chrome on iPhone": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1",
    "Firefox on Android": "Mozilla/5.0 (Android 14; Mobile; rv:127.0) Gecko/127.0 Firefox/127.0",
    "Mi Browser (Xiaomi)": "Mozilla/5.0 (Linux; U; Android 12; en-in; Redmi Note 11 Build/SKQ1.211103.001) "
    "AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/112.0.5615.136 Mobile Safari/537.36 "
    "XiaoMi/MiuiBrowser/14.8.0-gn",
    "Opera Mini": "Opera/9.80 (Android; Opera Mini/36.2.2254/119.132; U; id) Presto/2.12.423 Version/12.16",
    "UC Browser": "Mozilla/5.0 (Linux; U; Android 10; en-US; RMX2185 Build/QP1A.190711.020) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/78.0.3904.108 UCBrowser/13.4.0.1306 Mobile Safari/537.36",
    "JioPhone KaiOS": "Mozilla/5.0 (Mobile; LYF/F300B/LYF-F300B-001-01-15-130718-i; Android; rv:48.0) "
    "Gecko/48.0 Firefox/48.0 KAIOS/2.5",
    "Chrome on a Windows desktop": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
}


@pytest.mark.parametrize("user_agent", PREVIEW_AND_CRAWLER_AGENTS.values(), ids=PREVIEW_AND_CRAWLER_AGENTS.keys())
def test_preview_fetchers_and_crawlers_are_flagged(user_agent):
    assert is_bot(user_agent, "GET")


@pytest.mark.parametrize("user_agent", PHONE_BROWSERS.values(), ids=PHONE_BROWSERS.keys())
def test_people_on_phones_are_not_flagged(user_agent):
    assert not is_bot(user_agent, "GET")


@pytest.mark.parametrize("user_agent", PHONE_BROWSERS.values(), ids=PHONE_BROWSERS.keys())
def test_head_request_is_flagged_whatever_its_agent(user_agent):
    assert is_bot(user_agent, "HEAD")
