// A real OpenID Provider for the SSO tests: the certified `oidc-provider` package, configured from
// a JSON file (argv[2]): {"port", "clients": [...], "accounts": {"<id>": {claims}}}. Its own
// development login and consent pages (devInteractions) accept any password for a known account.
// Prints "ready <issuer>" once listening; stops when stdin closes (the test process went away).
import { readFileSync } from 'node:fs';
import Provider, { errors } from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const issuer = `http://127.0.0.1:${config.port}`;

const provider = new Provider(issuer, {
  clients: config.clients,
  async findAccount(ctx, id) {
    const account = config.accounts[id];
    if (!account) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...account }; } };
  },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    groups: ['groups'],
  },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  cookies: { keys: ['test-only-cookie-key'] },
  ttl: { Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60, Interaction: 600 },
});
// The dev login page accepts any login name: refuse those that aren't accounts of the config.
provider.on('server_error', (ctx, err) => console.error('server_error', err));

const server = provider.listen(config.port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
process.stdin.on('end', () => server.close(() => process.exit(0)));
process.stdin.resume();
void errors;
