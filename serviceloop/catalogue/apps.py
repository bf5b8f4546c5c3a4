from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "serviceloop.catalogue"
    label = "catalogue"
    verbose_name = "Catalogue"

    def ready(self) -> None:
        from serviceloop.core.subjects import subject_page

        # The event log links a service's and an offering's events to their staff pages.
        subject_page("catalogue.service", "catalogue:service_detail")
        subject_page("catalogue.offering", "catalogue:offering_detail")
