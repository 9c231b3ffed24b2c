"""A FastAPI service: nothing in it knows about coverage. 4 uvicorn workers serve it in the tests."""
import os

from fastapi import BackgroundTasks, Depends, FastAPI, HTTPException

from .pricing import Quote, price

app = FastAPI(title='shop')
AUDIT = []


async def worker_pid() -> int:
    return os.getpid()


def audit(sku: str) -> None:
    AUDIT.append(sku)  # runs after the response is sent


@app.get('/health')
async def health():
    return {'ok': True}


@app.get('/quote/{sku}')
async def quote(sku: str, quantity: int, tasks: BackgroundTasks, pid: int = Depends(worker_pid)) -> Quote:
    if quantity < 1:
        raise HTTPException(status_code=422, detail='quantity must be at least 1')
    tasks.add_task(audit, sku)
    return Quote(sku=sku, quantity=quantity, total=price(sku, quantity), served_by=pid)


@app.get('/audit')
def audit_log():
    return {'entries': len(AUDIT)}
