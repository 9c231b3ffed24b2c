"""Settings of a small Django service (JSON views, no database)."""
import os

SECRET_KEY = os.environ.get('DJANGO_SECRET_KEY', 'example-only-not-a-secret')
DEBUG = False
ALLOWED_HOSTS = ['127.0.0.1', 'localhost']
ROOT_URLCONF = 'shop.urls'
INSTALLED_APPS = []
MIDDLEWARE = ['django.middleware.common.CommonMiddleware']
DATABASES = {}
USE_TZ = True
