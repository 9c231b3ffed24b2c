from django.urls import path

from . import views

urlpatterns = [
    path('health', views.health),
    path('cart/total', views.cart_total),
    path('worker', views.worker),
]
