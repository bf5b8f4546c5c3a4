from serviceloop.feedback.views import channels, surveys

app_name = "feedback"

urlpatterns = [*surveys.urlpatterns, *channels.urlpatterns]
