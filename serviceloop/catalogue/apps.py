from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "serviceloop.catalogue"
    label = "catalogue"
    verbose_name = "Catalogue"
