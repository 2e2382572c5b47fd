"""``python -m app.workers``: the periodic jobs in a process of their own (production)."""

import asyncio
import logging
import signal

from app.db import create_engine, create_sessionmaker, session_scope
from app.services.reference import ReferenceData
from app.services.sla_calendar import config_from
from app.settings import get_settings
from app.workers import WorkerContext, start, stop


async def main() -> None:
    settings = get_settings()
    engine = create_engine(settings)
    factory = create_sessionmaker(engine)
    reference = ReferenceData(sla_config=config_from(settings))
    async with session_scope(factory) as session:
        await reference.load(session)
    tasks = start(WorkerContext(settings=settings, sessionmaker=factory, reference=reference))
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    await stopping.wait()
    await stop(tasks)
    await engine.dispose()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(main())
