"""A thin test client for the Zoho CRM emulator: an access token, JSON helpers, id look-ups."""

import requests

from sandbox import demo

TOKEN_PARAMS = {
    "grant_type": "refresh_token",
    "client_id": demo.ZOHO_CLIENT_ID,
    "client_secret": demo.ZOHO_CLIENT_SECRET,
    "refresh_token": demo.ZOHO_REFRESH_TOKEN,
}


class ZohoApi:
    def __init__(self, sb):
        self.sb = sb
        self.url = sb.zoho_url
        self.base = f"{sb.zoho_url}/crm/v7"
        self.http = requests.Session()
        self.token = self.mint()["access_token"]
        self.http.headers["Authorization"] = f"Zoho-oauthtoken {self.token}"

    def mint(self, **params):
        return requests.post(f"{self.url}/oauth/v2/token", params={**TOKEN_PARAMS, **params}, timeout=10).json()

    def request(self, method, path, **kwargs):
        kwargs.setdefault("timeout", 10)
        return self.http.request(method, f"{self.base}/{path}", **kwargs)

    def get(self, path, **params):
        return self.request("GET", path, params=params)

    def post(self, path, body=None):
        return self.request("POST", path, json=body) if body is not None else self.request("POST", path)

    def coql(self, query):
        return self.post("coql", {"select_query": query})

    def account_id(self, name):
        return self.coql(f"select Account_Name from Accounts where Account_Name = '{name}'").json()["data"][0]["id"]

    def record(self, module, record_id):
        return self.get(f"{module}/{record_id}").json()["data"][0]

    def settings(self, **knobs):
        """Change emulator knobs for this test (the fresh_sandbox fixture restores them)."""
        self.sb.zoho.settings = self.sb.zoho.settings.updated(**knobs)
