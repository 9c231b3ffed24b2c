"""JSON views: nothing in them knows about coverage. 4 gunicorn workers serve them in the tests."""
import json
import os

from django.http import JsonResponse
from django.views.decorators.http import require_GET, require_POST

from .cart import total


@require_GET
def health(request):
    return JsonResponse({'ok': True})


@require_POST
def cart_total(request):
    try:
        items = json.loads(request.body)
        return JsonResponse({'total': total(items)})
    except KeyError as error:
        return JsonResponse({'error': 'unknown item %s' % error}, status=400)


def worker(request):
    return JsonResponse({'pid': os.getpid()})
