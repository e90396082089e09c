"""The public verification page: everything a reader needs to trust (or distrust) a certificate."""
from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from tests.support.certificates import meta_tags, script_tags

pytestmark = pytest.mark.django_db
SITE = "https://academy.example.org"  # settings.SITE_URL in the test settings


def test_page_is_public_and_shows_the_whole_record(certificate):
    response = Client().get(f"/certificates/{certificate.credential_id}/")
    html = response.content.decode()

    assert response.status_code == 200
    assert "Ada Lovelace" in html
    assert certificate.course_title in html
    assert certificate.issued_at.strftime("%-d %B %Y") in html
    assert certificate.issuer_name in html
    assert "Status: valid" in html
    for order in range(1, 8):
        assert f"<th scope=\"row\">{order}. Topic {order}</th>" in html
    assert html.count("<td>100%</td>") == 7
    assert certificate.pdf_sha256 in html
    assert certificate.human_id in html


def test_page_offers_download_linkedin_share_and_copy_link(certificate):
    html = Client().get(certificate.get_absolute_url()).content.decode()
    assert f'href="/certificates/{certificate.credential_id}.pdf?download"' in html
    assert ">Download PDF</a>" in html
    assert "Add to LinkedIn profile" in html
    assert "Share on LinkedIn" in html
    assert "Copy link" in html
    assert f'value="{SITE}/certificates/{certificate.credential_id}/" readonly' in html


def test_pdf_hash_on_the_page_is_the_hash_of_the_pdf_served(certificate):
    client = Client()
    pdf = client.get(f"/certificates/{certificate.credential_id}.pdf").content
    assert hashlib.sha256(pdf).hexdigest() in client.get(certificate.get_absolute_url()).content.decode()


def test_add_to_linkedin_profile_link_carries_every_field_url_encoded(certificate):
    html = Client().get(certificate.get_absolute_url()).content.decode()
    from certificates.linkedin import add_to_profile_url

    url = add_to_profile_url(certificate)
    assert url.replace("&", "&amp;") in html
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://www.linkedin.com/profile/add"
    assert "+" not in parts.query and " " not in parts.query
    assert "certUrl=https%3A%2F%2Facademy.example.org%2Fcertificates%2F" in parts.query
    params = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert params == {
        "startTask": "CERTIFICATION_NAME",
        "name": certificate.course_title,
        "organizationName": certificate.issuer_name,
        "issueYear": str(certificate.issued_at.year),
        "issueMonth": str(certificate.issued_at.month),
        "certUrl": f"{SITE}/certificates/{certificate.credential_id}/",
        "certId": certificate.human_id,
    }


def test_add_to_profile_names_the_organization_by_id_when_configured(settings, certificate):
    settings.LINKEDIN_ORGANIZATION_ID = "1337"
    from certificates.linkedin import add_to_profile_url

    params = parse_qs(urlsplit(add_to_profile_url(certificate)).query)
    assert params["organizationId"] == ["1337"]
    assert "organizationName" not in params


def test_share_on_linkedin_link_shares_the_verification_url(certificate):
    html = Client().get(certificate.get_absolute_url()).content.decode()
    expected = ("https://www.linkedin.com/sharing/share-offsite/?url="
                f"https%3A%2F%2Facademy.example.org%2Fcertificates%2F{certificate.credential_id}%2F")
    assert f'href="{expected}"' in html


def test_open_graph_and_twitter_tags_use_absolute_urls_from_site_url_not_the_host_header(certificate):
    response = Client().get(certificate.get_absolute_url(), HTTP_HOST="localhost")
    meta = meta_tags(response.content.decode())

    assert meta["og:title"] == f"Ada Lovelace: {certificate.course_title} certificate"
    assert "Ada Lovelace completed all 7 modules" in meta["og:description"]
    assert meta["og:url"] == f"{SITE}/certificates/{certificate.credential_id}/"
    assert meta["og:type"] == "website"
    assert meta["og:image"] == f"{SITE}/certificates/{certificate.credential_id}.png"
    assert (meta["og:image:width"], meta["og:image:height"]) == ("1200", "627")
    assert meta["twitter:card"] == "summary_large_image"
    assert "localhost" not in response.content.decode().split("</head>")[0]


def test_unknown_credential_id_is_a_friendly_404(client):
    response = client.get("/certificates/0123456789abcdefghjk/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "No certificate has this ID" in html
    assert 'name="id"' in html  # a form to try another id


def test_malformed_credential_id_is_a_friendly_404_that_explains_the_format(client):
    response = client.get("/certificates/not-a-real-id/")
    assert response.status_code == 404
    assert "is not a credential ID" in response.content.decode()


@pytest.mark.parametrize("suffix", [".pdf", ".json", ".jwt", ".png", "/name/"])
def test_every_view_of_an_unknown_id_is_a_404(client, signed_in_client, seven_modules, suffix):
    response = (signed_in_client.post if suffix == "/name/" else client.get)(
        f"/certificates/0123456789abcdefghjk{suffix}"
    )
    assert response.status_code == 404


def test_the_human_form_of_an_id_redirects_to_the_canonical_page(client, certificate):
    response = client.get(f"/certificates/{certificate.human_id}/")
    assert response.status_code == 301
    assert response["Location"] == certificate.get_absolute_url()
    pdf = client.get(f"/certificates/{certificate.human_id}.pdf")
    assert pdf.status_code == 301 and pdf["Location"] == f"/certificates/{certificate.credential_id}.pdf"


def test_lookup_form_finds_a_certificate_by_the_id_printed_on_it(client, certificate):
    assert client.get("/certificates/").status_code == 200
    response = client.get("/certificates/", {"id": f"  {certificate.human_id.lower()} "})
    assert response.status_code == 302 and response["Location"] == certificate.get_absolute_url()
    assert client.get("/certificates/", {"id": "ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ"}).status_code == 404


def test_page_has_no_inline_script(certificate):
    html = Client().get(certificate.get_absolute_url()).content.decode()
    scripts = script_tags(html)
    assert scripts and all(script.get("src") for script in scripts)
    assert "onclick=" not in html.lower()


def test_holder_name_is_escaped_in_the_page_and_its_meta_tags(user, seven_modules):
    from certificates.services import issue_certificate
    from tests.support.quizzes import complete_modules

    user.full_name = '<script>alert("x")</script> & "Bob"'
    user.save()
    complete_modules(user, seven_modules)
    certificate = issue_certificate(user=user, course=seven_modules)

    html = Client().get(certificate.get_absolute_url()).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;Bob&quot;" in html
    assert meta_tags(html)["og:title"].startswith('<script>alert("x")</script> & "Bob"')
