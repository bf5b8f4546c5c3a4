"""Routes of the review pages, mounted under /incidents/ by incidents/urls.py."""

from __future__ import annotations

from django.urls import path

from serviceloop.incidents import review_views as views

urlpatterns = [
    path("reviews/", views.reviews_index, name="reviews"),
    path("<str:public_id>/review/", views.review_detail, name="review"),
    path("<str:public_id>/review/open", views.review_open_view, name="review_open"),
    path("<str:public_id>/review/edit", views.review_edit_view, name="review_edit"),
    path("<str:public_id>/review/complete", views.review_complete_view, name="review_complete"),
    path("<str:public_id>/review/publish", views.review_publish_view, name="review_publish"),
    path("<str:public_id>/review/actions", views.review_action_add_view, name="review_action_add"),
    path(
        "<str:public_id>/review/actions/<str:action_id>/close",
        views.review_action_close_view,
        name="review_action_close",
    ),
]
