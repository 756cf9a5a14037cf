import { Component, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { ApiKey, CONNECTABLE_PLATFORMS, ConnectablePlatform, Connection, IDENTITY_PLATFORMS, Identity, IdentityPlatform, Invitation, Member, Role } from '../core/api';
import { CONNECT_ORG_KEY, callbackUri, identityCallbackUri } from '../core/connect';
import { I18N_PIPES } from '../core/i18n';
import { OrgPage } from '../ui/org-page';

const ROLES: Role[] = ['owner', 'admin', 'analyst', 'viewer'];

@Component({
  selector: 'an-settings',
  imports: [FormsModule, ...I18N_PIPES],
  template: `
    <section class="page">
      <h1>{{ 'settings.title' | t }}</h1>
      @if (error()) { <p class="error" role="alert">{{ error() }}</p> }
      <section class="card" aria-labelledby="members-title">
        <h2 id="members-title">{{ 'settings.members' | t }}</h2>
        <div class="table-wrap">
          <table>
            <thead><tr><th scope="col">{{ 'settings.name' | t }}</th><th scope="col">{{ 'login.email' | t }}</th><th scope="col">{{ 'settings.role' | t }}</th><th scope="col">{{ 'settings.joined' | t }}</th></tr></thead>
            <tbody>
              @for (m of members(); track m.user_id) {
                <tr>
                  <td>{{ m.display_name }}</td><td>{{ m.email }}</td>
                  <td>
                    @if (auth.canAdmin() && m.user_id !== auth.me()?.user_id) {
                      <label class="visually-hidden" [for]="'role-' + m.user_id">{{ 'settings.role' | t }}</label>
                      <select [id]="'role-' + m.user_id" [ngModel]="m.role" (ngModelChange)="changeRole(m, $event)">
                        @for (r of roles; track r) { <option [value]="r">{{ 'role.' + r | t }}</option> }
                      </select>
                    } @else { {{ 'role.' + m.role | t }} }
                  </td>
                  <td>{{ m.joined_at | day }}</td>
                </tr>
              }
            </tbody>
          </table>
        </div>
      </section>

      <section class="card" aria-labelledby="identities-title" data-test="identities">
        <h2 id="identities-title">{{ 'settings.identities' | t }}</h2>
        <p class="muted">{{ 'settings.identitiesHint' | t }}</p>
        <div class="table-wrap">
          <table>
            <thead><tr><th scope="col">{{ 'col.platform' | t }}</th><th scope="col">{{ 'settings.identityStatus' | t }}</th><th scope="col">{{ 'settings.lastLogin' | t }}</th><th scope="col"><span class="visually-hidden">{{ 'settings.link' | t }}</span></th></tr></thead>
            <tbody>
              @for (p of identityPlatforms; track p) {
                @let linked = identity(p);
                <tr [attr.data-identity]="p">
                  <td>{{ i18n.tOr('platform.' + p, p) }}</td>
                  <td>{{ (linked ? 'settings.linked' : 'settings.notLinked') | t }}</td>
                  <td>{{ linked?.last_login_at ? (linked!.last_login_at! | day) : '—' }}</td>
                  <td>
                    @if (linked) { <button type="button" class="link danger" (click)="unlink(p)" data-test="unlink">{{ 'settings.unlink' | t }}</button> }
                    @else { <button type="button" class="link" (click)="link(p)" [disabled]="connecting()" data-test="link">{{ 'settings.link' | t }}</button> }
                  </td>
                </tr>
              }
            </tbody>
          </table>
        </div>
      </section>

      @if (auth.canAdmin()) {
        <section class="card" aria-labelledby="invite-title">
          <h2 id="invite-title">{{ 'settings.invitations' | t }}</h2>
          <form class="inline" (ngSubmit)="invite()">
            <label for="invite-email">{{ 'login.email' | t }}</label>
            <input id="invite-email" name="inviteEmail" type="email" required [(ngModel)]="inviteEmail" />
            <label for="invite-role">{{ 'settings.role' | t }}</label>
            <select id="invite-role" name="inviteRole" [(ngModel)]="inviteRole">
              @for (r of roles; track r) { <option [value]="r">{{ 'role.' + r | t }}</option> }
            </select>
            <button type="submit" class="primary">{{ 'settings.invite' | t }}</button>
          </form>
          @if (inviteLink(); as link) {
            <div class="notice" role="status">
              <p>{{ 'settings.inviteOnce' | t }}</p>
              <code class="secret">{{ link }}</code>
              <button type="button" (click)="copy(link)">{{ (copied() ? 'settings.copied' : 'settings.copy') | t }}</button>
            </div>
          }
          <div class="table-wrap">
            <table>
              <thead><tr><th scope="col">{{ 'login.email' | t }}</th><th scope="col">{{ 'settings.role' | t }}</th><th scope="col">{{ 'settings.expires' | t }}</th><th scope="col">{{ 'settings.status' | t }}</th></tr></thead>
              <tbody>
                @for (i of invitations(); track i.invitation_id) {
                  <tr><td>{{ i.email }}</td><td>{{ 'role.' + i.role | t }}</td><td>{{ i.expires_at | day: true }}</td>
                    <td>@if (i.accepted_at) { <span class="badge">{{ 'settings.accepted' | t }}</span> }
                      @else { <button type="button" class="link danger" (click)="revokeInvitation(i)">{{ 'settings.revoke' | t }}</button> }</td></tr>
                } @empty { <tr><td colspan="4" class="muted">{{ 'settings.noInvitations' | t }}</td></tr> }
              </tbody>
            </table>
          </div>
        </section>

        <section class="card" aria-labelledby="keys-title" data-test="api-keys">
          <h2 id="keys-title">{{ 'settings.keys' | t }}</h2>
          <form class="inline" (ngSubmit)="createKey()">
            <label for="key-name">{{ 'settings.keyName' | t }}</label>
            <input id="key-name" name="keyName" required maxlength="80" [(ngModel)]="keyName" />
            <label for="key-scope">{{ 'settings.scope' | t }}</label>
            <select id="key-scope" name="scope" [(ngModel)]="keyScope">
              <option value="read">{{ 'settings.scope.read' | t }}</option>
              <option value="write">{{ 'settings.scope.write' | t }}</option>
            </select>
            <button type="submit" class="primary" data-test="create-key">{{ 'settings.createKey' | t }}</button>
          </form>
          @if (newKey(); as k) {
            <div class="notice" role="status" data-test="new-key">
              <p>{{ 'settings.keyOnce' | t }}</p>
              <code class="secret">{{ k.key }}</code>
              <button type="button" (click)="copy(k.key!)">{{ (copied() ? 'settings.copied' : 'settings.copy') | t }}</button>
              <button type="button" class="link" (click)="newKey.set(null)">{{ 'common.close' | t }}</button>
            </div>
          }
          <div class="table-wrap">
            <table data-test="keys">
              <thead><tr><th scope="col">{{ 'settings.keyName' | t }}</th><th scope="col">{{ 'settings.prefix' | t }}</th><th scope="col">{{ 'settings.scope' | t }}</th>
                <th scope="col">{{ 'settings.created' | t }}</th><th scope="col">{{ 'settings.lastUsed' | t }}</th><th scope="col">{{ 'settings.status' | t }}</th></tr></thead>
              <tbody>
                @for (k of keys(); track k.key_id) {
                  <tr [attr.data-key]="k.name">
                    <td>{{ k.name }}</td><td><code>{{ k.prefix }}</code></td><td>{{ 'settings.scope.' + k.scope | t }}</td>
                    <td>{{ k.created_at | day }}</td><td>{{ k.last_used_at | day: true }}</td>
                    <td>
                      @if (k.revoked_at) { <span class="badge">{{ 'settings.revoked' | t }}</span> }
                      @else { <button type="button" class="link danger" (click)="revoke(k)" data-test="revoke">{{ 'settings.revoke' | t }}</button> }
                    </td>
                  </tr>
                } @empty { <tr><td colspan="6" class="muted">{{ 'settings.noKeys' | t }}</td></tr> }
              </tbody>
            </table>
          </div>
        </section>

        <section class="card" aria-labelledby="conn-title">
          <h2 id="conn-title">{{ 'settings.connections' | t }}</h2>
          <form class="inline" (ngSubmit)="connect()" data-test="connect">
            <label for="connect-platform">{{ 'col.platform' | t }}</label>
            <select id="connect-platform" name="connectPlatform" [(ngModel)]="connectPlatform">
              @for (p of platforms; track p) { <option [value]="p">{{ 'platform.' + p | t }}</option> }
            </select>
            @if (connectPlatform === 'ga4') {
              <label for="connect-property">{{ 'settings.propertyId' | t }}</label>
              <input id="connect-property" name="propertyId" required inputmode="numeric" pattern="[0-9]+" maxlength="32" [(ngModel)]="propertyId" />
            }
            <button type="submit" class="primary" [disabled]="connecting()">{{ 'settings.connect' | t }}</button>
          </form>
          <p class="muted">{{ 'settings.connectHint' | t }}</p>
          <div class="table-wrap">
            <table data-test="connections">
              <thead><tr><th scope="col">{{ 'col.platform' | t }}</th><th scope="col">{{ 'settings.account' | t }}</th><th scope="col">{{ 'settings.status' | t }}</th>
                <th scope="col">{{ 'settings.expires' | t }}</th><th scope="col">{{ 'settings.lastError' | t }}</th><th scope="col"><span class="visually-hidden">{{ 'settings.disconnect' | t }}</span></th></tr></thead>
              <tbody>
                @for (c of connections(); track c.id) {
                  <tr [attr.data-connection]="c.platform + ':' + c.account_id"><td>{{ i18n.tOr('platform.' + c.platform, c.platform) }}</td><td>{{ c.account_id }}</td>
                    <td><span class="badge">{{ i18n.tOr('connection.' + c.status, c.status) }}</span></td>
                    <td>{{ c.access_expires_at | day: true }}</td><td>{{ c.last_error ?? '—' }}</td>
                    <td><button type="button" class="link danger" (click)="disconnect(c)" data-test="disconnect">{{ 'settings.disconnect' | t }}</button></td></tr>
                } @empty { <tr><td colspan="6" class="muted">{{ 'settings.noConnections' | t }}</td></tr> }
              </tbody>
            </table>
          </div>
        </section>
      }
    </section>
  `,
})
export class SettingsPage extends OrgPage {
  protected readonly roles = ROLES;
  protected readonly members = signal<Member[]>([]);
  protected readonly keys = signal<ApiKey[]>([]);
  protected readonly connections = signal<Connection[]>([]);
  protected readonly newKey = signal<ApiKey | null>(null);
  protected readonly invitations = signal<Invitation[]>([]);
  protected readonly inviteLink = signal<string | null>(null);
  protected inviteEmail = '';
  protected inviteRole: Role = 'analyst';
  protected readonly copied = signal(false);
  protected keyName = '';
  protected keyScope: 'read' | 'write' = 'read';
  protected readonly platforms = CONNECTABLE_PLATFORMS;
  protected connectPlatform: ConnectablePlatform = 'instagram';
  protected propertyId = '';
  protected readonly connecting = signal(false);
  protected readonly identityPlatforms = IDENTITY_PLATFORMS;
  protected readonly identities = signal<Identity[]>([]);

  protected reload(): void {
    this.error.set(null);
    this.api.members(this.org).subscribe({ next: (m) => this.members.set(m), error: this.fail });
    this.api.identities().subscribe({ next: (i) => this.identities.set(i), error: this.fail });
    if (this.auth.canAdmin()) {
      this.api.keys(this.org).subscribe({ next: (k) => this.keys.set(k), error: this.fail });
      this.api.connections(this.org).subscribe({ next: (c) => this.connections.set(c), error: this.fail });
      this.api.invitations(this.org).subscribe({ next: (i) => this.invitations.set(i), error: this.fail });
    }
  }

  protected changeRole(member: Member, role: Role): void {
    this.api.changeRole(this.org, member.user_id, role).subscribe({ next: () => this.reload(), error: (e: unknown) => (this.fail(e), this.reload()) });
  }

  protected invite(): void {
    const email = this.inviteEmail.trim();
    if (!email) return;
    this.api.invite(this.org, email, this.inviteRole).subscribe({
      next: (invitation) => {
        // The token travels in the link the admin sends; the invitee signs in and accepts it.
        this.inviteLink.set(`${location.origin}/accept?token=${encodeURIComponent(invitation.token ?? '')}`);
        this.copied.set(false);
        this.inviteEmail = '';
        this.reload();
      },
      error: this.fail,
    });
  }

  protected revokeInvitation(invitation: Invitation): void {
    if (!confirm(this.i18n.t('settings.confirmRevokeInvitation', { email: invitation.email }))) return;
    this.api.revokeInvitation(this.org, invitation.invitation_id).subscribe({ next: () => this.reload(), error: this.fail });
  }

  protected createKey(): void {
    const name = this.keyName.trim();
    if (!name) return;
    this.api.createKey(this.org, name, this.keyScope).subscribe({
      next: (key) => {
        this.newKey.set(key);
        this.copied.set(false);
        this.keyName = '';
        this.reload();
      },
      error: this.fail,
    });
  }

  protected revoke(key: ApiKey): void {
    if (!confirm(this.i18n.t('settings.confirmRevoke', { name: key.name }))) return;
    this.api.revokeKey(this.org, key.key_id).subscribe({ next: () => this.reload(), error: this.fail });
  }

  /** Sends the browser to the platform's consent page; it comes back to the callback page. */
  protected connect(): void {
    this.connecting.set(true);
    const platform = this.connectPlatform;
    this.api.connect(this.org, platform, callbackUri(location.origin, platform), platform === 'ga4' ? this.propertyId.trim() : undefined).subscribe({
      next: (started) => {
        // The state is bound to this organisation: the callback finishes it there, whatever
        // organisation is selected by then.
        sessionStorage.setItem(CONNECT_ORG_KEY, this.org);
        location.assign(started.authorize_url);
      },
      error: (e: unknown) => (this.connecting.set(false), this.fail(e)),
    });
  }

  protected identity(platform: IdentityPlatform): Identity | undefined {
    return this.identities().find((i) => i.platform === platform);
  }

  /** Sends the browser to the platform's consent page to link the account for signing in. */
  protected link(platform: IdentityPlatform): void {
    this.connecting.set(true);
    this.api.linkIdentity(platform, identityCallbackUri(location.origin, platform, 'link')).subscribe({
      next: (started) => location.assign(started.authorize_url),
      error: (e: unknown) => (this.connecting.set(false), this.fail(e)),
    });
  }

  protected unlink(platform: IdentityPlatform): void {
    if (!confirm(this.i18n.t('settings.confirmUnlink', { platform: this.i18n.tOr('platform.' + platform, platform) }))) return;
    this.api.unlinkIdentity(platform).subscribe({ next: () => this.reload(), error: this.fail });
  }

  protected disconnect(connection: Connection): void {
    const platform = this.i18n.tOr('platform.' + connection.platform, connection.platform);
    if (!confirm(this.i18n.t('settings.confirmDisconnect', { account: connection.account_id, platform }))) return;
    this.api.disconnect(this.org, connection.id).subscribe({ next: () => this.reload(), error: this.fail });
  }

  protected async copy(text: string): Promise<void> {
    await navigator.clipboard?.writeText(text).catch(() => undefined);
    this.copied.set(true);
  }
}
