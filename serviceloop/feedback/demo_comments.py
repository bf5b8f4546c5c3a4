"""What the demo's customers say, per kind of service (pure data and a chooser, no database).

A service's domain comes from the words of its slug (and name): a ride service gets ride comments,
email & collaboration gets mailbox comments, payroll gets payslip comments. Each pool is split by
score band (DOMAIN §2: 9–10 positive, 7–8 neutral, 0–6 negative on 0–10), so a 9 never says
"terrible"; the sentiment analyser agrees with each pool (`test_demo_comments`). Social posts are
per domain too, written with the handles and hashtags that `MATCH_RULES` match.
"""

from __future__ import annotations

import re

TRANSPORT, MAIL, PAYROLL, DEVICES, REMOTE, PARCELS, MEETINGS, DESK = (
    "transport",
    "mail",
    "payroll",
    "devices",
    "remote_access",
    "parcels",
    "meeting_rooms",
    "service_desk",
)

# Words of a slug (or name) that say which domain a service is in; the first domain found wins,
# the service desk's generic pool is the fallback.
DOMAIN_WORDS: list[tuple[str, tuple[str, ...]]] = [
    (TRANSPORT, ("ride", "rides", "taxi", "cab", "car", "travel", "transport", "shuttle", "mobility")),
    (PARCELS, ("parcel", "parcels", "courier", "delivery", "shipping", "post", "logistics", "freight")),
    (PAYROLL, ("payroll", "pay", "payslip", "salary", "salaries", "wages")),
    (REMOTE, ("vpn", "remote")),
    (MEETINGS, ("video", "conferencing", "meeting", "meetings", "rooms")),
    (MAIL, ("email", "mail", "mailbox", "collaboration", "calendar", "chat")),
    (DEVICES, ("laptop", "laptops", "device", "devices", "workstation", "desktop", "hardware", "provisioning")),
    (DESK, ("desk", "helpdesk", "support", "help")),
]


def domain_of(slug: str, name: str = "") -> str:
    """The comment domain of a service, from the words of its slug, else of its name."""
    for text in (slug, name):
        words = set(re.findall(r"[a-z]+", text.lower()))
        for domain, keys in DOMAIN_WORDS:
            if words & set(keys):
                return domain
    return DESK


COMMENTS: dict[str, dict[str, list[str]]] = {
    TRANSPORT: {
        "positive": [
            "Driver was on time, the car was spotless and he helped with my luggage.",
            "Smooth ride to the client, friendly driver and a fair price. Will book again.",
            "The car was waiting at arrivals even though my flight was an hour late. Brilliant.",
            "Booking a ride in the app took ten seconds and the driver arrived in five minutes. Excellent.",
            "Great to see the driver's name and car before it arrived, I felt safe.",
            "Got me to the airport early despite the traffic. Thank you!",
            "Lovely driver, comfortable car, and the invoice went straight to our cost centre.",
        ],
        "neutral": [
            "The ride was fine, the pick-up was a few minutes later than the app said.",
            "Good driver; the app's map could show the right entrance to our building.",
            "OK overall, the car was a bit small for three people with bags.",
            "Decent ride, a little longer to wait at rush hour.",
            "Fine, although the receipt took a day to appear in the portal.",
        ],
        "negative": [
            "The driver was a no-show and the app still says the ride was completed.",
            "Driver cancelled twice and then I was charged a cancellation fee. Unacceptable.",
            "Waited 40 minutes for a ride at the station and missed my meeting.",
            "The driver was on his phone the whole journey. I did not feel safe.",
            "Charged for an airport ride I never took, and nobody answers about the refund.",
            "The car never came to the airport and I had to pay for a taxi myself. Awful.",
            "Surge waiting times every morning, the ride booking is useless at peak hours.",
        ],
    },
    MAIL: {
        "positive": [
            "My mailbox was migrated overnight and everything, calendar included, was there in the morning. Great job.",
            "Shared mailbox set up within the hour, the whole team can answer customers now. Great work.",
            "Thanks for recovering the folder of emails I deleted by mistake, a real lifesaver.",
            "Outlook works perfectly on my phone now, thank you for the clear instructions.",
            "Quick help with the Teams calendar sync, very friendly and patient.",
            "Shared calendars for the whole team set up in an afternoon. Excellent, thank you.",
            "Shared drive access sorted the same morning, excellent support.",
        ],
        "neutral": [
            "Mail works again, though I still had to set up my signature myself.",
            "The mailbox is fine now, the web client takes some getting used to.",
            "Calendar sharing works, but it took two attempts to get the permissions right.",
            "OK, the shared drive is back, some folders took a while to reappear.",
            "Fine in the end, I had to restart Outlook a few times.",
        ],
        "negative": [
            "Emails to our biggest client bounced for two days and nobody told us why.",
            "My mailbox is full again after you promised the quota was raised. Frustrating.",
            "Teams keeps dropping calls and the ticket was closed without a fix. Useless.",
            "Half my calendar disappeared after the migration, I missed two meetings.",
            "The shared mailbox still sends every reply twice. Terrible for our customers.",
            "Lost access to the shared drive for three days, I could not do my job.",
            "Outlook crashes every time I open an attachment and nobody has called me back. Frustrating.",
        ],
    },
    PAYROLL: {
        "positive": [
            "Payroll sorted my tax code quickly and explained everything clearly.",
            "The missing bonus was added to this month's run. Thank you for the quick response!",
            "Payslips were in the portal two days before pay day, as promised. Great.",
            "Very understanding help with my parental leave pay questions. Much appreciated.",
            "Overtime claim corrected the same day, excellent service from payroll.",
            "Honestly impressed how smoothly the switch to the new payslip portal went.",
        ],
        "neutral": [
            "My payslip is correct now, it took a couple of emails to get there.",
            "The payslip portal works, but finding last year's statements is not obvious.",
            "Pay arrived on time; the explanation of the deductions could be clearer.",
            "Fine, the bank details change will only apply from next month's run.",
            "OK, the year-end statement was a few days later than expected.",
        ],
        "negative": [
            "My pay is wrong for the second month in a row and nobody answers the phone.",
            "The payslip portal was down on pay day, of all days. Useless.",
            "Emailed payroll five times about my back pay and got no reply.",
            "My expenses were left out of the payroll run again. This is getting ridiculous.",
            "Wrong tax code for three months, and now I owe money. Very disappointed.",
            "Overtime missing from my payslip again, I have to chase it every month.",
            "Our payroll changes were sent before the cut-off and still ignored. Unacceptable.",
        ],
    },
    DEVICES: {
        "positive": [
            "New laptop arrived ready to use on my first day, everything installed. Great start.",
            "Screen swapped the next morning, great service. Thank you!",
            "The docking station and monitors work perfectly, excellent set-up.",
            "Very helpful technician, my files were moved to the new laptop without a hitch.",
            "Developer workstation delivered with the whole tool chain, really impressed.",
            "Quick and friendly laptop refresh, the new one is so much faster.",
        ],
        "neutral": [
            "The laptop works; a few applications had to be added after delivery.",
            "Delivery took the full three days; the laptop itself is fine.",
            "OK, the repair was done, though I had to bring the laptop in myself.",
            "Laptop is fine, the docking station needed a second visit.",
            "Decent machine, the keyboard layout was not the one I ordered.",
        ],
        "negative": [
            "My new laptop arrived without the software I need and I cannot work. Terrible.",
            "Waited two weeks for a replacement laptop, the promised next-day swap never happened. Very disappointed.",
            "The laptop overheats and crashes during video calls, and the ticket was closed anyway.",
            "Lost a week of work because the laptop was wiped before my files were copied.",
            "New joiner had no laptop on day one, a terrible first impression.",
            "The docking station still does not work after three visits. Frustrating.",
        ],
    },
    REMOTE: {
        "positive": [
            "VPN set up in minutes, working from home is as easy as the office now.",
            "Thanks for fixing the VPN client so quickly, I could join my meeting on time.",
            "The new sign-in with my phone works perfectly, great instructions.",
            "VPN has been rock solid all week from the hotel, excellent.",
            "Very patient help with the VPN on my home router, thank you!",
        ],
        "neutral": [
            "The VPN connects now, a little slower on my home broadband.",
            "Works, though I have to sign in again every few hours.",
            "OK, the VPN is back, the second factor prompt is a bit annoying.",
            "Fine in the end, the client needed reinstalling twice.",
        ],
        "negative": [
            "The VPN drops every ten minutes and I lose my work each time.",
            "Could not connect to the VPN for two days while travelling and nobody helped. Awful.",
            "The VPN is so slow that remote work is impossible in the afternoons.",
            "Locked out of the VPN after the update and the ticket was closed without a fix.",
            "Third VPN outage this month, and no warning at all. Unacceptable.",
            "The multi-factor sign-in fails every morning, I waste half an hour each day.",
        ],
    },
    PARCELS: {
        "positive": [
            "Parcel collected on time and delivered the next morning, as promised.",
            "The tracking page showed every step, our customer was delighted.",
            "Driver called ahead and delivered to the right door. Excellent service.",
            "A missing parcel was found and delivered within a day, great work, thank you!",
            "Reliable collections every day, great service from the depot.",
        ],
        "neutral": [
            "The parcel arrived a day late, but the tracking was accurate.",
            "Delivered fine, the label printing in the portal is clumsy.",
            "OK, the collection window moved to later in the afternoon.",
            "Parcels arrive fine; the tracking updates come a little later.",
        ],
        "negative": [
            "The parcel was marked as delivered but never arrived, and nobody can tell us where it is. Unacceptable.",
            "Missed the daily collection three times this week, our customers are angry.",
            "Parcel returned to us damaged, with no explanation.",
            "Next-day delivery took five days during the peak season. Very disappointed.",
            "The tracking page is broken and the claim for a lost parcel was refused.",
            "Driver left the parcel in the rain outside a closed office. Terrible.",
        ],
    },
    MEETINGS: {
        "positive": [
            "The meeting room screen and camera worked first time, a great hybrid meeting.",
            "Booking the video room was easy and the sound was excellent.",
            "Thanks for the quick help with the room camera, the call started on time.",
        ],
        "neutral": [
            "The room works, the microphone only picks up people near it.",
            "Fine, the screen took a few minutes to connect to my laptop.",
        ],
        "negative": [
            "The video room camera failed again in front of a client. Embarrassing.",
            "No sound in the meeting room for the third time, we moved to a phone call.",
            "The booking system gave our room to another team. Frustrating.",
        ],
    },
    DESK: {
        "positive": [
            "Sorted my password reset in under five minutes. Cheers!",
            "The agent was patient and explained every step, really appreciated it.",
            "Resolved at first contact, which never happens. Well done.",
            "Quick and friendly, no complaints at all.",
            "Great support, the issue was solved the same day.",
            "Friendly and knowledgeable, thank you for the help.",
            "Jo stayed on the call until it actually worked. That is the kind of support I like.",
        ],
        "neutral": [
            "It was fine in the end.",
            "Took a while, but it works now.",
            "The answer was right; it came a day after I asked.",
            "Fine, it was picked up on the second call.",
        ],
        "negative": [
            "Logged the ticket on Monday, it is Thursday and nobody has looked at it. Poor.",
            "I had to explain the same problem three times to three different people.",
            "Closed my ticket without fixing anything. Reopened it. Again.",
            "Still waiting for someone to call me back as promised yesterday.",
            "Slow response, we were waiting for days and nobody told us anything.",
        ],
    },
}

# What the demo's story makes people say (`core.demo_story`): only in its moments, never drawn at random
# elsewhere (`GENERIC` leaves them out); merged into COMMENTS below, so every comment of the demo is in
# its service's pool and the analyser checks these too.
STORY_COMMENTS: dict[str, dict[str, list[str]]] = {
    # The service desk before its new self-service portal.
    "before_portal": {
        "positive": [],
        "neutral": [
            "OK, the portal form was confusing but the agent helped.",
            "Got there in the end, the old request form does not say which option to pick.",
        ],
        "negative": [
            "The self-service portal is a confusing maze, it took twenty minutes to raise a request.",
            "Passed from team to team for a week before anyone fixed my access. Awful and frustrating.",
            "The old portal lost my request twice, I had to phone the desk in the end. Poor.",
        ],
    },
    # The service desk after the new portal went live.
    "after_portal": {
        "positive": [
            "The new self-service portal let me reset my password myself in two minutes. Brilliant.",
            "Raised my request in the new portal and could follow every step until it was done. Great.",
            "The new portal found the right form for me straight away, and it was sorted the same day. Excellent.",
            "Love the new portal, I fixed my printer access myself without waiting for anyone.",
        ],
        "neutral": [
            "The new portal is quicker, I just could not find the form for a second monitor at first.",
            "Fine, the new portal works, the status updates could be a bit more detailed.",
        ],
        "negative": [],
    },
    # Email & collaboration during its outage week.
    "outage": {
        "positive": ["Thanks for the clear updates during the mail outage, and for fixing it quickly in the end."],
        "neutral": ["Mail works again now, we are catching up on the messages from that morning."],
        "negative": [
            "Email was down for most of the day and nobody told us when it would be back. Unacceptable.",
            "The mail outage stopped our whole office, customers could not reach us. Terrible.",
            "Lost a full day of work to the email outage and still no explanation. Very disappointed.",
            "Outlook and Teams both dead during the outage, we missed a client deadline. Awful.",
            "Second day of the email outage and the status page still says everything is fine. Useless.",
        ],
    },
}
# Which domain each moment of the story speaks in.
STORY_DOMAINS = {"before_portal": DESK, "after_portal": DESK, "outage": MAIL}
# The comment pools to draw from at random: COMMENTS without the story's moments.
GENERIC: dict[str, dict[str, list[str]]] = {
    domain: {band: list(texts) for band, texts in pools.items()} for domain, pools in COMMENTS.items()
}
for _moment, _pools in STORY_COMMENTS.items():
    for _band, _texts in _pools.items():
        COMMENTS[STORY_DOMAINS[_moment]][_band] += _texts

# Rules each domain's services match posts by: (kind, pattern), as a service manager would set them.
MATCH_RULES: dict[str, list[tuple[str, str]]] = {
    TRANSPORT: [("handle", "ridesbydemo"), ("hashtag", "ridesbydemo"), ("keyword", "ride booking")],
    MAIL: [("hashtag", "demomail"), ("keyword", "outlook"), ("keyword", "shared mailbox")],
    PAYROLL: [("hashtag", "payslip"), ("keyword", "payroll")],
    DEVICES: [("hashtag", "newlaptop"), ("keyword", "laptop")],
    REMOTE: [("keyword", "vpn")],
    PARCELS: [("handle", "parcelsbydemo"), ("hashtag", "parceltrack")],
    DESK: [("handle", "demoservicedesk"), ("keyword", "service desk")],
}

# (source, kind, text) of posts about each domain; each is matched by that domain's rules.
POSTS: dict[str, list[tuple[str, str, str]]] = {
    TRANSPORT: [
        ("mastodon", "mention", "@ridesbydemo driver was waiting at arrivals at 1am after a delayed flight. Superb!"),
        ("x", "post", "Third no-show this month from @ridesbydemo. Missed my train. #ridesbydemo"),
        ("x", "post", "Love the new ride booking app, the car was at the door in four minutes."),
        ("trustpilot", "review", "Ride booking for our sales team works well, invoices are clear. Good value."),
        ("mastodon", "post", "Why does ride booking charge a cancellation fee when the driver cancels? #ridesbydemo"),
        ("x", "mention", "@ridesbydemo stuck at the station for 40 minutes, the app says the car is here. It is not."),
    ],
    MAIL: [
        ("x", "post", "Outlook down again this morning. Nothing sends. #demomail"),
        ("mastodon", "post", "Our new shared mailbox is brilliant, the whole team sees every customer question."),
        ("chat", "chat", "Is anyone else getting bounce messages from Outlook today?"),
        ("x", "post", "Mailbox migration done over the weekend, not a single email lost. Great job #demomail"),
        ("mastodon", "post", "The shared mailbox sends every reply twice. Our customers think we are spamming them."),
    ],
    PAYROLL: [
        ("x", "post", "Payslip portal down on pay day. Of course. #payslip"),
        ("mastodon", "post", "Payroll fixed my back pay within a day, thank you, very impressed."),
        ("chat", "chat", "When is the payroll cut-off for overtime this month?"),
        ("x", "post", "Wrong tax code on my payslip for the third month running. #payslip"),
    ],
    DEVICES: [
        ("x", "post", "First day at the new job and my laptop was ready on the desk. Great start #newlaptop"),
        ("mastodon", "post", "Two weeks without a working laptop. The swap was promised for the next day."),
        ("chat", "chat", "Can I get a second monitor with the developer laptop?"),
    ],
    REMOTE: [
        ("x", "post", "VPN dropping every ten minutes from home again. Impossible to work."),
        ("mastodon", "post", "New VPN sign-in with the phone app is so much smoother, nice work."),
        ("chat", "chat", "Which VPN server should I use from the Singapore office?"),
    ],
    PARCELS: [
        ("x", "mention", "@parcelsbydemo parcel marked delivered, but nothing at our door. #parceltrack"),
        ("trustpilot", "review", "Reliable next-day collections for our warehouse, friendly drivers. #parceltrack"),
        ("x", "post", "Our customers love the tracking page from @parcelsbydemo, fewer calls for us."),
        ("mastodon", "post", "Five days for a next-day parcel. Peak season is no excuse. #parceltrack"),
    ],
    DESK: [
        ("x", "mention", "@demoservicedesk sorted my password in two minutes on a Friday evening. Heroes."),
        ("mastodon", "post", "The service desk closed my ticket without fixing anything. Again."),
        ("trustpilot", "review", "Best service desk we have worked with, friendly and quick."),
        ("x", "mention", "@demoservicedesk still waiting for the call back you promised yesterday."),
    ],
}

# Posts that no rule matches: they wait in the inbox for someone to assign or dismiss them.
UNMATCHED_POSTS: list[tuple[str, str, str]] = [
    ("x", "post", "Anyone else unable to sign in to anything this morning? Whole office is stuck."),
    ("mastodon", "post", "The printers on the third floor have been jammed all week. Please help."),
    ("x", "post", "Huge thanks to the IT team for rescuing my presentation ten minutes before the board meeting!"),
    ("trustpilot", "review", "Support was slow to answer and the invoice was wrong. Not impressed."),
    ("chat", "chat", "Who do I ask about getting a parking permit for the new site?"),
    ("x", "post", "Win a free holiday!!! Click the link in our bio"),
    ("mastodon", "post", "The new badge readers at reception reject half of our cards. Queues every morning."),
    ("x", "post", "Wi-Fi in the meeting rooms is fantastic since the upgrade, finally."),
    ("chat", "chat", "Is there a form to order business cards?"),
    ("trustpilot", "review", "Friendly people, but it took three weeks to get an answer about our contract."),
]

# Handles who write posts: a post's author is a made-up account, never a demo login.
AUTHORS = [
    "kim_travels",
    "ops_anna",
    "devmarco",
    "finance_lee",
    "sam_on_the_road",
    "priya_builds",
    "harbour_it",
    "jo_in_sales",
    "nightshift_nurse",
    "warehouse_will",
    "cobalt_paralegal",
    "lumen_studio",
]
