from django.apps import AppConfig


class RelationshipsConfig(AppConfig):
    name = "serviceloop.relationships"
    label = "relationships"
    verbose_name = "Relationships"
