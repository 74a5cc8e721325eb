"""The federation's configuration: `[partners.NAME]` tables and `federation_*` keys, read
from a file and the environment, checked, and never showing credentials."""
from __future__ import annotations

import pytest

from gateway.config import Config, ConfigError, load_config


def test_partners_from_a_file_and_keys_from_the_environment(tmp_path):
    path = tmp_path / "fairgate.toml"
    path.write_text('federation_max_window = 500\n'
                    '[partners.esrf]\nurl = "https://reader:hunter2@icatplus.example/api"\n'
                    'timeout = 2.5\nname = "ESRF"\nhomepage = "https://www.esrf.fr"\n'
                    '[partners.ill]\nurl = "http://fairgate.ill.example/api"\n')
    config = load_config(path, env={"FAIRGATE_FEDERATION_TIMEOUT": "1.5",
                                    "FAIRGATE_FEDERATION_COOLDOWN": "60"})
    assert list(config.partners) == ["esrf", "ill"]  # configuration order is kept
    assert config.partners["esrf"]["timeout"] == 2.5
    assert (config.federation_timeout, config.federation_cooldown,
            config.federation_max_window) == (1.5, 60.0, 500)
    assert "hunter2" not in repr(config) and "icatplus.example/api" in repr(config)


@pytest.mark.parametrize("partners,message", [
    ({"Bad Name": {"url": "http://x.example/api"}}, "partner name"),
    ({"local": {"url": "http://x.example/api"}}, "not 'local'"),
    ({"p": {"url": "ftp://x.example/api"}}, "http:// or https://"),
    ({"p": {"url": "http:///api"}}, "http:// or https://"),
    ({"p": {}}, "url"),
    ({"p": "http://x.example/api"}, "a table"),
    ({"p": {"url": "http://x.example/api", "timeout": 0}}, "timeout"),
    ({"p": {"url": "http://x.example/api", "timeout": "fast"}}, "timeout"),
    ({"p": {"url": "http://x.example/api", "homepage": "www.x.org"}}, "homepage"),
    ({"p": {"url": "http://x.example/api", "password": "x"}}, "unknown option"),
])
def test_bad_partner_tables_are_refused(partners, message):
    with pytest.raises(ConfigError, match=message):
        Config(partners=partners)


@pytest.mark.parametrize("keys,message", [
    ({"federation_timeout": 0}, "federation_timeout"),
    ({"federation_default_limit": 2000}, "federation_default_limit"),
    ({"federation_default_limit": 0}, "federation_default_limit"),
    ({"federation_failure_threshold": 0}, "federation_failure_threshold"),
    ({"federation_cooldown": -1}, "federation_cooldown"),
    ({"federation_max_window": 5000}, "at most 1000"),
])
def test_bad_federation_keys_are_refused(keys, message):
    with pytest.raises(ConfigError, match=message):
        Config(**keys)


def test_a_bad_number_from_the_environment_is_refused(tmp_path):
    path = tmp_path / "fairgate.toml"
    path.write_text("")
    with pytest.raises(ConfigError, match="federation_timeout: 'soon' is not a number"):
        load_config(path, env={"FAIRGATE_FEDERATION_TIMEOUT": "soon"})
