"""The yardstick of Flask's cheapest endpoint: one route that returns a small dict through
`jsonify`, nothing else (no middleware, no logging, no database), served by granian as the
render's `serve` serves it. What the rendered service's `GET /api/v1/health/live` is compared
with."""

from flask import Flask, Response, jsonify

app = Flask(__name__)


@app.get("/bare")
def bare() -> Response:
    return jsonify({"status": "ok", "message": "Hello"})
