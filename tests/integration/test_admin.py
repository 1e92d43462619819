"""Django admin on the write API: session log-in with CSRF, admin role only, commands only."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client

from projections.catalog.models import CategoryView, ProductView
from tests.support.actors import PASSWORD, make_actor
from write_api.accounts.models import User
from write_api.application import Shop

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def csrf_token(client: Client, path: str) -> str:
    page = client.get(path).content.decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def logged_in(email: str) -> Client:
    client = Client(SERVER_NAME="localhost", enforce_csrf_checks=True)
    token = csrf_token(client, "/admin/login/")
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": email, "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302, response.content
    return client


def test_an_admin_logs_in_with_a_session_and_sees_the_shop(shop_app: Shop) -> None:
    # given
    admin = make_actor(shop_app, "admin").user
    assert admin is not None
    # when
    client = logged_in(admin.email)
    index = client.get("/admin/")
    # then
    assert index.status_code == 200
    for model in ("user", "categoryview", "productview"):
        assert (
            f"/admin/{'accounts' if model == 'user' else 'projections'}/{model}/"
            in index.content.decode()
        )


@pytest.mark.parametrize("role", ["customer", "seller", "analyst"])
def test_other_roles_cannot_log_in_to_the_admin(shop_app: Shop, role: str) -> None:
    user = make_actor(shop_app, role).user
    assert user is not None
    client = Client(SERVER_NAME="localhost", enforce_csrf_checks=True)
    token = csrf_token(client, "/admin/login/")
    response = client.post(
        "/admin/login/",
        {"username": user.email, "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 200  # the form again, with an error
    assert client.get("/admin/").status_code == 302


def test_a_post_without_the_csrf_token_is_refused(shop_app: Shop) -> None:
    admin = make_actor(shop_app, "admin").user
    assert admin is not None
    client = Client(SERVER_NAME="localhost", enforce_csrf_checks=True)
    response = client.post("/admin/login/", {"username": admin.email, "password": PASSWORD})
    assert response.status_code == 403


def test_changing_a_role_in_the_admin_records_the_account_event(shop_app: Shop) -> None:
    # given
    admin, user = make_actor(shop_app, "admin").user, make_actor(shop_app, "customer").user
    assert admin is not None
    assert user is not None
    client = logged_in(admin.email)
    path = f"/admin/accounts/user/{user.id}/change/"
    # when
    response = client.post(
        path, {"role": "seller", "is_active": "on", "csrfmiddlewaretoken": csrf_token(client, path)}
    )
    # then
    assert response.status_code == 302, response.content
    assert User.objects.get(pk=user.id).role == "seller"
    last = list(shop_app.events.get(user.id))[-1]
    assert (type(last).__name__, last.role, last.metadata["actor_id"]) == (
        "RoleChanged",
        "seller",
        str(admin.id),
    )


def test_adding_a_category_and_a_product_in_the_admin_goes_through_commands(
    shop_app: Shop,
) -> None:
    # given
    admin = make_actor(shop_app, "admin").user
    assert admin is not None
    client = logged_in(admin.email)
    name = f"Admin cat {uuid.uuid4().hex[:6]}"
    add_category = "/admin/projections/categoryview/add/"
    add_product = "/admin/projections/productview/add/"
    # when
    category = client.post(
        add_category, {"name": name, "csrfmiddlewaretoken": csrf_token(client, add_category)}
    )
    product = client.post(
        add_product,
        {
            "name": "Admin chair",
            "description": "",
            "price": "99.00",
            "stock": "2",
            "csrfmiddlewaretoken": csrf_token(client, add_product),
        },
    )
    duplicate = client.post(
        add_category, {"name": name, "csrfmiddlewaretoken": csrf_token(client, add_category)}
    )
    # then: events were stored, read tables were not written by the admin
    assert (category.status_code, product.status_code) == (302, 302)
    tree = shop_app.category_tree()
    assert [n.name for n in tree.nodes.values()].count(name) == 1
    assert not CategoryView.objects.filter(name=name).exists()
    assert not ProductView.objects.filter(name="Admin chair").exists()
    created = [
        shop_app.mapper.to_domain_event(n)
        for n in shop_app.recorder.select_notifications(start=0, limit=100_000)
        if n.topic == "shopstream.product.Created"
    ]
    [chair] = [e for e in created if e.name == "Admin chair" and e.seller_id == admin.id]
    assert (chair.stock, str(chair.price)) == (2, "99.00")
    assert duplicate.status_code == 200
    assert "A sibling category already has this name." in duplicate.content.decode()
