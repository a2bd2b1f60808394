"""htmx in a real browser: attributes inside user text cannot act, and htmx evaluates no JavaScript of its own.
Escaping (tests/test_escaping.py) keeps markup out of pages; this is what holds if some day it does not."""
from playwright.sync_api import expect

INJECTED = '<button class="probe" hx-get="/customers/lookup?q=probe" hx-trigger="load">x</button>'


def test_htmx_attributes_in_a_message_do_nothing(page, login, owner, make_customer, chat):
    customer = make_customer("Rina")
    chat(customer, [("customer", "Harga kak?"), ("staff", "185rb kak")])
    login(owner.email)
    page.goto(f"/customers/{customer.id}")
    expect(page.locator(".message .body").first).to_have_text("Harga kak?")

    config = page.evaluate("() => htmx.config")
    assert config["allowEval"] is False and config["historyCacheSize"] == 0 and config["selfRequestsOnly"] is True

    probes = []
    page.on("request", lambda request: probes.append(request.url) if "q=probe" in request.url else None)
    # As if a message body had come through unescaped: htmx must leave it alone.
    page.evaluate("""(html) => {
        const body = document.querySelector('.message .body');
        body.insertAdjacentHTML('beforeend', html);
        htmx.process(body);
    }""", INJECTED)
    page.wait_for_timeout(500)
    assert probes == [], "an htmx attribute inside a message body sent a request"

    # The same markup outside user text does send one: the probe itself works.
    with page.expect_request(lambda request: "q=probe" in request.url):
        page.evaluate("""(html) => {
            const main = document.querySelector('main');
            main.insertAdjacentHTML('beforeend', '<div id="probe-target"></div>' + html);
            htmx.process(main);
        }""", INJECTED.replace('class="probe"', 'class="probe" hx-target="#probe-target"'))
