import pytest

from write_api.application import Shop


@pytest.fixture
def shop() -> Shop:
    return Shop(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})
