from django.urls import path
from rest_framework.routers import SimpleRouter

from messaging.api import campaigns, channels, contacts, media, templates, views

router = SimpleRouter(trailing_slash=True)
router.register("channels", views.ChannelViewSet, basename="channel")
router.register("templates", views.TemplateViewSet, basename="template")
router.register("contacts", contacts.ContactViewSet, basename="contact")
router.register("messages", views.MessageViewSet, basename="message")
router.register("segments", campaigns.SegmentViewSet, basename="segment")
router.register("campaigns", campaigns.CampaignViewSet, basename="campaign")
router.register("date-events", campaigns.DateEventViewSet, basename="date-event")

# Before the router: "channels/check/" must not be read as the channel with id "check".
urlpatterns = [
    path("channels/connect-info/", channels.ConnectInfoView.as_view(), name="channel-connect-info"),
    path("channels/check/", channels.GraphCheckView.as_view(), name="channel-graph-check"),
    path("channels/<int:pk>/health/", channels.ChannelHealthView.as_view(), name="channel-health"),
    path("channels/<int:pk>/check/", channels.ChannelCheckView.as_view(), name="channel-check"),
    path("channels/<int:pk>/resume/", channels.ChannelResumeView.as_view(), name="channel-resume"),
    path("channels/<int:pk>/sync-templates/", channels.ChannelTemplateSyncView.as_view(), name="channel-sync"),
    path("templates/sync/", templates.TemplateSyncView.as_view(), name="template-sync"),
    path("contacts/imports/", contacts.ContactImportCreateView.as_view(), name="contact-import-create"),
    path("contacts/imports/<int:pk>/", contacts.ContactImportView.as_view(), name="contact-import"),
    path("contacts/imports/<int:pk>/dry-run/", contacts.ContactImportDryRunView.as_view(), name="contact-import-dry"),
    path("contacts/imports/<int:pk>/run/", contacts.ContactImportRunView.as_view(), name="contact-import-run"),
    path("contacts/export/", contacts.ContactExportView.as_view(), name="contact-export"),
    path("contacts/tags/", contacts.TagListView.as_view(), name="contact-tags"),
    path("media/", media.MediaListView.as_view(), name="media-list"),
    path("media/<int:pk>/", media.MediaDetailView.as_view(), name="media-detail"),
    *router.urls,
]
