from django.urls import path

from records import views

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", views.health, name="health"),
]
