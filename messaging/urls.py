from django.urls import path

from messaging import views

urlpatterns = [
    path("webhooks/whatsapp/", views.whatsapp_webhook, name="whatsapp-webhook"),
    path("sandbox/", views.sandbox_page, name="sandbox"),
    path("sandbox/api/messages/", views.sandbox_messages, name="sandbox-messages"),
    path("sandbox/api/send/", views.sandbox_send, name="sandbox-send"),
    path("sandbox/api/contacts/", views.sandbox_contact_create, name="sandbox-contact-create"),
    path("sandbox/api/upload/", views.sandbox_upload, name="sandbox-upload"),
    path("files/f/<str:token>/", views.media_file, name="media-file"),
    path("files/<int:pk>/", views.media_file_by_id, name="media-file-by-id"),
]
