"""A plain Flask app served by gunicorn with 4 workers. No coverage code here."""
from flask import Flask

app = Flask(__name__)


@app.route('/hello')
def hello():
    return {'message': 'hello', 'greeting': greeting('world')}


def greeting(name):
    if not name:
        return 'hello, nobody'
    return f'hello, {name}'
