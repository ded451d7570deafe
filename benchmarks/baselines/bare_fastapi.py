"""The yardstick of FastAPI's cheapest endpoint: one async route with a pydantic response model,
nothing else (no middleware, no logging, no database), served by uvicorn as the render's `serve`
serves it. What the rendered service's `GET /api/v1/health/live` is compared with."""

from fastapi import FastAPI
from pydantic import BaseModel


class Greeting(BaseModel):
    status: str
    message: str


app = FastAPI()


@app.get("/bare", response_model=Greeting)
async def bare() -> Greeting:
    return Greeting(status="ok", message="Hello")
