# FAIRgate gateway image: the `fairgate` CLI and the web app under gunicorn.
# Configuration comes from FAIRGATE_* variables and/or a mounted fairgate.toml, exactly as
# without a container (docs/configuration.md); docker-compose.yml wires it to Elasticsearch.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    FAIRGATE_DATA_DIR=/var/lib/fairgate

WORKDIR /app
COPY pyproject.toml README.md ./
COPY mappings mappings
COPY harvesters harvesters
COPY gateway gateway
RUN pip install '.[server]' \
    && useradd --system --home-dir /var/lib/fairgate --create-home fairgate

USER fairgate
VOLUME /var/lib/fairgate
EXPOSE 8000
# create_app() reads the configuration; the workers share the record store (SQLite WAL)
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "2", "--threads", "4", \
     "--timeout", "60", "--access-logfile", "-", "gateway.app:create_app()"]
