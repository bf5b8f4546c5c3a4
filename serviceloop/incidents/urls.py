from serviceloop.incidents import maintenance_urls

app_name = "incidents"

urlpatterns = [*maintenance_urls.urlpatterns]
