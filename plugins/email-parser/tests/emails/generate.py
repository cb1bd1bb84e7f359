"""Generates this folder's test emails (MIME, several charsets and encodings) and expected.json."""
import json, os
from email.mime.text import MIMEText
from email.mime.multipart import MIMEMultipart
from email.mime.application import MIMEApplication
from email.charset import Charset, QP, BASE64
from email.header import Header

# Writes the .eml cases and expected.json beside this script: python3 generate.py
OUT = os.path.dirname(os.path.abspath(__file__))
cases = {}

def write(name, msg, expected):
    data = msg.as_bytes() if hasattr(msg, "as_bytes") else msg
    with open(os.path.join(OUT, name + ".eml"), "wb") as f:
        f.write(data)
    base = {"is_enquiry": True, "destination": None, "check_in": None, "check_out": None, "nights": None,
            "adults": None, "children_ages": [], "infants": 0, "budget_amount": None, "budget_currency": None,
            "budget_per_person": None, "customer_name": None, "customer_email": None, "phone": None,
            "envelope_to": "sunbird@inbound.caravan.test"}
    if expected.get("is_enquiry") is False:
        base = {"is_enquiry": False, "envelope_to": "sunbird@inbound.caravan.test"}
    base.update(expected)
    cases[name] = base

import quopri
from email.message import Message
def text(body, charset="utf-8", enc="base64"):
    if enc == "qp":
        m = Message()
        m["MIME-Version"] = "1.0"
        m["Content-Type"] = 'text/plain; charset="%s"' % charset
        m["Content-Transfer-Encoding"] = "quoted-printable"
        m.set_payload(quopri.encodestring(body.encode(charset)).decode("ascii"))
        return m
    return MIMEText(body, "plain", charset)

def headers(m, frm, subject, date, to="sunbird@inbound.caravan.test", extra=()):
    m["From"] = frm
    m["To"] = to
    m["Subject"] = subject
    m["Date"] = date
    m["Message-ID"] = "<%s@example.test>" % "".join(c for c in (date + subject).lower() if c.isalnum())[:40]
    for k, v in extra:
        m[k] = v
    return m

# 1 Outlook forward
body = """Hi team, please quote this one. The client also phoned this morning.

Thandi Mokoena | Sunbird Safaris | 011 555 0100

________________________________
From: Johan van der Merwe <johan.vdm@example.co.za>
Sent: Monday, 30 November 2026 14:22
To: Thandi Mokoena <thandi@sunbird.example>
Subject: Mauritius enquiry

Good day Thandi

Hope you are well. My wife and I, plus our daughter aged 12, would like to go to Mauritius over the school holidays: check in 5 December, check out 15 December. We would prefer half board and a sea view room. Budget around R120k for the three of us.

Kind regards
Johan van der Merwe
Mobile: 083 456 7890
"""
write("01-outlook-forward-mauritius", headers(text(body), "Thandi Mokoena <thandi@sunbird.example>", "FW: Mauritius enquiry", "Tue, 01 Dec 2026 08:10:00 +0200"),
      dict(destination="Mauritius", check_in="2026-12-05", check_out="2026-12-15", nights=10, adults=2, children_ages=[12], infants=0,
           budget_amount=120000, budget_currency="ZAR", budget_per_person=False, customer_name="Johan van der Merwe",
           customer_email="johan.vdm@example.co.za", phone="0834567890"))

# 2 HTML-only newsletter without list headers
html = """<html><head><style>.x{color:#333}</style></head><body>
<div style="display:none">Island escapes from R15 999</div>
<table width="600"><tr><td><a href="https://islanddeals.example/view">View this email in your browser</a></td></tr>
<tr><td><h1>Zanzibar &amp; Mauritius specials</h1><p>7 nights from R15&nbsp;999 pp sharing, travel 12 March &ndash; 30 April 2027. 2 adults, half board.</p>
<p><a href="https://islanddeals.example/book">Book now</a></p></td></tr>
<tr><td><small>You are receiving this email because you subscribed to Island Deals. <a href="https://islanddeals.example/u">Unsubscribe</a> | Manage your preferences</small></td></tr></table>
</body></html>"""
m = MIMEText(html, "html", "utf-8")
write("02-html-newsletter", headers(m, "Island Deals <news@islanddeals.example>", "This week: island escapes from R15 999", "Wed, 02 Dec 2026 06:00:00 +0000"),
      dict(is_enquiry=False))

# 3 US-style date range
body = """Hi!

Looking at Kruger Park March 12-19 for two adults and a 7-year-old. Budget is $4,500 total.

Thanks,
Emily Carter
"""
write("03-month-first-range-kruger", headers(text(body), "Emily Carter <Emily.Carter@Example.com>", "Kruger in March", "Wed, 02 Dec 2026 15:30:00 -0500"),
      dict(destination="Kruger National Park", check_in="2027-03-12", check_out="2027-03-19", nights=7, adults=2, children_ages=[7], infants=0,
           budget_amount=4500, budget_currency="USD", budget_per_person=False, customer_name="Emily Carter", customer_email="emily.carter@example.com"))

# 4 numeric dates, per person, rooms, quoted-printable, bare From
body = """Hello,

Please quote for Cape Town, 14/02/2027 to 18/02/2027. We are 4 adults (2 couples), so 2 rooms. Budget R8 500 pp.

Regards,
Bongani Khumalo
Tel: (021) 555-1234
"""
write("04-numeric-dates-per-person", headers(text(body, enc="qp"), "bongani.khumalo@example.co.za", "Cape Town Valentine's", "Thu, 03 Dec 2026 10:00:00 +0200"),
      dict(destination="Cape Town", check_in="2027-02-14", check_out="2027-02-18", nights=4, adults=4, children_ages=[], infants=0,
           budget_amount=8500, budget_currency="ZAR", budget_per_person=True, customer_name="Bongani Khumalo",
           customer_email="bongani.khumalo@example.co.za", phone="0215551234"))

# 5 infant and child, multipart/alternative, French phone
plain = """Bonjour,

We are two adults with a baby (10 months) and our son who is 4. We'd like the Seychelles from the 3rd of April for 10 nights, ideally a family room near the beach. Budget about €9k.

Merci,
Claire Dubois
+33 6 12 34 56 78
"""
alt = MIMEMultipart("alternative")
alt.attach(text(plain))
alt.attach(MIMEText("<p>" + plain.replace("\n\n", "</p><p>").replace("\n", "<br>") + "</p>", "html", "utf-8"))
write("05-baby-and-child-seychelles", headers(alt, "Claire Dubois <claire.dubois@example.fr>", "Seychelles avec enfants", "Fri, 04 Dec 2026 19:45:00 +0100"),
      dict(destination="Seychelles", check_in="2027-04-03", check_out="2027-04-13", nights=10, adults=2, children_ages=[4], infants=1,
           budget_amount=9000, budget_currency="EUR", budget_per_person=False, customer_name="Claire Dubois",
           customer_email="claire.dubois@example.fr", phone="+33612345678"))

# 6 reply with quoted text that mentions other trip details
body = """Hi Sunbird,

Thanks for the quote. Could we rather do Zanzibar 19-26 March 2027 instead? Same 2 adults, and we could go up to R70 000.

Thanks,
Priya

On Fri, 20 Nov 2026 at 11:02, Sunbird Safaris <quotes@sunbird.example> wrote:
> Dear Priya,
> Please find your quote for Mauritius, 12-19 March 2027, 3 adults, R55 000.
> Kind regards
> Sunbird Safaris
> 011 555 0100
"""
write("06-reply-with-quote", headers(text(body), "Priya Naidoo <priya.naidoo@example.net>", "Re: Your quote QT-20261120-9F3A2B", "Sat, 05 Dec 2026 09:12:00 +0200"),
      dict(destination="Zanzibar", check_in="2027-03-19", check_out="2027-03-26", nights=7, adults=2, children_ages=[], infants=0,
           budget_amount=70000, budget_currency="ZAR", budget_per_person=False, customer_name="Priya Naidoo",
           customer_email="priya.naidoo@example.net"))

# 7 Apple Mail forward, family of four, alias, KES
body = """See below, can you help?

Begin forwarded message:

From: Ken Otieno <ken.otieno@example.co.ke>
Subject: Safari
Date: 28 November 2026 at 10:15:00 GMT+3
To: info@sunbird.example

Jambo! A family of four (kids 8 and 11) wants to see the Mara, 7 nights from 2 August 2027. Budget KES 900,000 all in.
Ken
+254 712 345 678
"""
write("07-apple-forward-mara", headers(text(body), "Desk <desk@sunbird.example>", "Fwd: Safari", "Sun, 06 Dec 2026 07:00:00 +0200"),
      dict(destination="Maasai Mara", check_in="2027-08-02", check_out="2027-08-09", nights=7, adults=2, children_ages=[8, 11], infants=0,
           budget_amount=900000, budget_currency="KES", budget_per_person=False, customer_name="Ken Otieno",
           customer_email="ken.otieno@example.co.ke", phone="+254712345678"))

# 8 out of office in the body only
body = """Thank you for your email. I am currently out of the office until 4 January 2027 with no access to email.
For urgent matters please contact reception on 011 555 0000.
"""
write("08-out-of-office-body-only", headers(text(body), "Lindiwe Nkosi <lindiwe@example.org>", "Re: Your Zanzibar quote", "Mon, 07 Dec 2026 12:00:00 +0200"),
      dict(is_enquiry=False))

# 9 windows-1252, encoded-word From, GBP per person
body = """Dear Sunbird,

My partner and I are after a Maldives water villa, 10 July 2027 for 9 nights, all inclusive. Our budget is \u00a34,500 per person.

Best wishes,
Si\u00e2n
"""
m = text(body, charset="windows-1252", enc="qp")
write("09-cp1252-gbp-per-person", headers(m, "=?windows-1252?Q?Si=E2n_O=92Brien?= <sian.obrien@example.co.uk>", "Maldives in July", "Mon, 07 Dec 2026 18:20:00 +0000"),
      dict(destination="Maldives", check_in="2027-07-10", check_out="2027-07-19", nights=9, adults=2, children_ages=[], infants=0,
           budget_amount=4500, budget_currency="GBP", budget_per_person=True, customer_name="Si\u00e2n O\u2019Brien",
           customer_email="sian.obrien@example.co.uk"))

# 10 web form from a no-reply address
body = """New enquiry from the website form

Name: Anele Zulu
Email: Anele.Zulu@Example.com
Phone: 072 111 2233
Destination: Victoria Falls
Arrival date: 2027-05-20
Departure date: 2027-05-23
Adults: 2
Children: 1
Child ages: 9
Budget: 25000
Message: We'd love a sunset cruise.
"""
write("10-web-form-noreply", headers(text(body), "Sunbird Website <noreply@sunbird.example>", "Website enquiry", "Tue, 08 Dec 2026 13:05:00 +0200"),
      dict(destination="Victoria Falls", check_in="2027-05-20", check_out="2027-05-23", nights=3, adults=2, children_ages=[9], infants=0,
           budget_amount=25000, budget_currency="ZAR", budget_per_person=False, customer_name="Anele Zulu",
           customer_email="anele.zulu@example.com", phone="0721112233"))

# 11 yearless range over New Year, flexible
body = """Hi, could you quote Cape Town 28 Dec - 4 Jan for me and my husband plus 3 kids (5, 8 & 14)? We're flexible by a day or two.
Around R45k in total would be great.
Nomvula
"""
write("11-new-year-cape-town", headers(text(body), "Nomvula Dlamini <nomvula.d@example.co.za>", "December holiday", "Mon, 07 Dec 2026 20:41:00 +0200"),
      dict(destination="Cape Town", check_in="2026-12-28", check_out="2027-01-04", nights=7, adults=2, children_ages=[5, 8, 14], infants=0,
           budget_amount=45000, budget_currency="ZAR", budget_per_person=False, customer_name="Nomvula Dlamini",
           customer_email="nomvula.d@example.co.za"))

# 12 two destinations, nights summed, JPY
body = """Hello,

We are a couple hoping to combine Victoria Falls and Cape Town: 3 nights in Victoria Falls and 4 nights in Cape Town, starting October 5th 2027. Budget about \u00a51,200,000 for both of us.

Hiroshi Tanaka
"""
write("12-two-destinations-jpy", headers(text(body), "hiroshi.tanaka@example.jp", "Falls and Cape Town", "Wed, 09 Dec 2026 09:00:00 +0900"),
      dict(destination="Cape Town", check_in="2027-10-05", check_out="2027-10-12", nights=7, adults=2, children_ages=[], infants=0,
           budget_amount=1200000, budget_currency="JPY", budget_per_person=False, customer_name="Hiroshi Tanaka",
           customer_email="hiroshi.tanaka@example.jp"))

# 13 bounce
rep = MIMEMultipart("report", report_type="delivery-status")
rep.attach(text("This is the mail system at host mx.example.\n\nI'm sorry to have to inform you that your message could not be delivered to one or more recipients.\n\n<someone@example.net>: host said: 550 user unknown\n"))
write("13-bounce", headers(rep, "MAILER-DAEMON@mx.example (Mail Delivery System)", "Undelivered Mail Returned to Sender", "Wed, 09 Dec 2026 09:05:00 +0200"),
      dict(is_enquiry=False))

# 14 list mail with a List-Unsubscribe header, plain text
body = """Hi travellers,

Our Maldives flash sale ends Friday: 5 nights from USD 2,999 per person, 2 adults sharing, all inclusive.

Happy travels,
The Wanderlust Club
"""
write("14-list-unsubscribe-promo", headers(text(body), "The Wanderlust Club <hello@wanderlust.example>", "Maldives flash sale", "Thu, 10 Dec 2026 05:00:00 +0000",
      extra=[("List-Unsubscribe", "<https://wanderlust.example/u?id=42>, <mailto:unsub@wanderlust.example>"), ("Precedence", "bulk")]),
      dict(is_enquiry=False))

# 15 Gmail HTML-only reply with a blockquote
html = """<div dir="ltr">Yes please go ahead with Kruger, but for 2 adults and 1 infant, 5-12 June.<div><br></div><div>Tom</div></div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Tue, 1 Dec 2026 at 09:00, Sunbird Safaris &lt;<a href="mailto:quotes@sunbird.example">quotes@sunbird.example</a>&gt; wrote:<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex"><div>Dear Tom, would Zanzibar 1-8 May for 3 adults suit you? Budget R30 000.</div></blockquote></div>"""
m = MIMEText(html, "html", "utf-8")
write("15-gmail-html-reply", headers(m, "Tom Becker <tom.becker@example.de>", "Re: Kruger or Zanzibar?", "Thu, 10 Dec 2026 16:44:00 +0100"),
      dict(destination="Kruger National Park", check_in="2027-06-05", check_out="2027-06-12", nights=7, adults=2, children_ages=[], infants=1,
           customer_name="Tom Becker", customer_email="tom.becker@example.de"))

# --- second batch, written before running the parser on it ---
body = """Hi, I'm travelling solo and would like 5 nights in Mauritius from 2027-09-14. All-inclusive if possible, max USD 3500.

Regards,
Daniel Smith
"""
write("16-solo-iso-date-mauritius", headers(text(body), "Daniel Smith <dan.smith@example.com>", "Solo trip", "Fri, 11 Dec 2026 10:00:00 +0000"),
      dict(destination="Mauritius", check_in="2027-09-14", check_out="2027-09-19", nights=5, adults=1, children_ages=[], infants=0,
           budget_amount=3500, budget_currency="USD", budget_per_person=False, customer_name="Daniel Smith", customer_email="dan.smith@example.com"))

body = """hey guys
can u quote zanzibar for 2 adults + 2 kids (10 & 13) from 2 july to 9 july?? budget R 80,000
thabo
0611234567
"""
write("17-casual-lowercase-zanzibar", headers(text(body), "thabo@example.co.za", "quote pls", "Fri, 11 Dec 2026 22:15:00 +0200"),
      dict(destination="Zanzibar", check_in="2027-07-02", check_out="2027-07-09", nights=7, adults=2, children_ages=[10, 13], infants=0,
           budget_amount=80000, budget_currency="ZAR", budget_per_person=False, customer_name="Thabo", customer_email="thabo@example.co.za", phone="0611234567"))

body = """Good morning,

We are 3 adults looking at Seychelles between 10 and 17 November 2027. Our budget is between €2,000 and €2,500 per person.

Kind regards,
Marie-Claire Laurent
"""
write("18-range-budget-per-person", headers(text(body), "\"Laurent, Marie-Claire\" <mc.laurent@example.fr>", "Seychelles November", "Sat, 12 Dec 2026 08:30:00 +0100"),
      dict(destination="Seychelles", check_in="2027-11-10", check_out="2027-11-17", nights=7, adults=3, children_ages=[], infants=0,
           budget_amount=2500, budget_currency="EUR", budget_per_person=True, customer_name="Marie-Claire Laurent", customer_email="mc.laurent@example.fr"))

body = """Hello,

Arriving Victoria Falls on Tuesday 6 April 2027 and departing Friday 9 April. Two of us. No budget set yet.

Thanks,
Grace
"""
write("19-arrive-depart-weekdays", headers(text(body), "Grace Banda <grace.banda@example.mw>", "Falls in April", "Sat, 12 Dec 2026 11:00:00 +0200"),
      dict(destination="Victoria Falls", check_in="2027-04-06", check_out="2027-04-09", nights=3, adults=2, children_ages=[], infants=0,
           customer_name="Grace Banda", customer_email="grace.banda@example.mw"))

body = """SAFARI NEWS - December edition

Kruger Park specials: 3 nights from R9 999 per person sharing, valid 10 January to 30 March 2027.

To stop receiving these emails, update your subscription settings.
"""
write("20-list-id-newsletter", headers(text(body), "Safari News <news@safarinews.example>", "Safari News: December", "Sun, 13 Dec 2026 06:00:00 +0200",
      extra=[("List-Id", "Safari News <news.safarinews.example>")]),
      dict(is_enquiry=False))

html = """<html><body><p>Dear team, please see my request below.</p>
<table border="1"><tr><th>Destination</th><td>Maldives</td></tr>
<tr><th>Check-in</th><td>15/03/2027</td></tr><tr><th>Check-out</th><td>22/03/2027</td></tr>
<tr><th>Guests</th><td>2 adults, 1 child (age 5)</td></tr><tr><th>Budget</th><td>USD 10&nbsp;000</td></tr></table>
<p>Best regards,<br>Rashid Khan</p></body></html>"""
m = MIMEText(html, "html", "utf-8")
write("21-html-table-request", headers(m, "Rashid Khan <rashid.khan@example.ae>", "Maldives request", "Sun, 13 Dec 2026 09:45:00 +0400"),
      dict(destination="Maldives", check_in="2027-03-15", check_out="2027-03-22", nights=7, adults=2, children_ages=[5], infants=0,
           budget_amount=10000, budget_currency="USD", budget_per_person=False, customer_name="Rashid Khan", customer_email="rashid.khan@example.ae"))

with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump(cases, f, indent=2, ensure_ascii=False)
    f.write("\n")
print(len(cases))
