from rest_framework.routers import SimpleRouter

from messaging.api import views

router = SimpleRouter(trailing_slash=True)
router.register("channels", views.ChannelViewSet, basename="channel")
router.register("templates", views.TemplateViewSet, basename="template")
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("messages", views.MessageViewSet, basename="message")

urlpatterns = router.urls
