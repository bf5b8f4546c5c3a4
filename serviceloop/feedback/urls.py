from serviceloop.feedback.views import channels, invitations, surveys

app_name = "feedback"

urlpatterns = [*surveys.urlpatterns, *invitations.urlpatterns, *channels.urlpatterns]
