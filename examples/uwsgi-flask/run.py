"""The original recipe's app, unchanged: a plain Flask app. No coverage code here —
server-coverage starts Coverage.py in uWSGI's master before this module is imported."""
from flask import Flask

app = Flask(__name__)


@app.route('/')
def index():
    return 'Hello from uWSGI'


@app.route('/hello')
def hello():
    return {'message': 'hello', 'greeting': greeting('world')}


def greeting(name):
    if not name:
        return 'hello, nobody'
    return f'hello, {name}'
