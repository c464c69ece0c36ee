FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
RUN pip install --no-cache-dir -c constraints.txt .
COPY . .
RUN DEBUG=false SECRET_KEY=build HASHIDS_SALT=build python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["gunicorn", "linktrack.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "4"]
