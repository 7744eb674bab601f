# The staff pages about signing in and one's own account (English): the header bar, sign-in,
# setup, authenticator enrolment, recovery codes, invitations, the account page and API tokens.
# Every key here is also in ../fr/staff-account.ftl, in the same order.

## Shared by the pages of this group (staff-account-)
staff-account-email = Email
staff-account-password = Password
staff-account-password-again = Password again
staff-account-your-password = Your password
staff-account-continue = Continue
staff-account-never = never
staff-account-name = Name
staff-account-last-used = Last used
staff-account-key-by-hand = Or enter this key by hand:
staff-account-password-advice = Choose a long password (at least 12 characters; a few unrelated words work well).
# The script of the passkey buttons (passkeys.js) reads these from the page.
staff-account-passkey-rejected = The passkey was not accepted.
staff-account-passkey-default-name = Passkey
# A staff member's firm-wide role (tk("staff-account-role", role))
staff-account-role-admin = admin
staff-account-role-attorney = attorney
staff-account-role-paralegal = paralegal

## layout.html (the header bar of the staff pages)
staff-layout-nav-matters = Matters
staff-layout-nav-portals = Portals
staff-layout-nav-holds = Legal holds
staff-layout-nav-notifications = Notifications
staff-layout-nav-users = Users
staff-layout-nav-access-review = Access review
staff-layout-nav-alerts = Alerts
staff-layout-nav-firm = Firm
staff-layout-nav-account = Account
staff-layout-sign-out = Sign out

## login.html
staff-login-title = Sign in — { $firm }
staff-login-heading = Sign in
staff-login-locked-down = Courier is locked down: only administrators can sign in until it is lifted.
staff-login-passkey = Sign in with a passkey instead

## login_mfa.html
staff-login-mfa-title = Verification code
staff-login-mfa-intro = Enter the six-digit code from your authenticator app. Lost it? Enter one of your recovery codes instead (each works once).
staff-login-mfa-code = Code
staff-login-mfa-submit = Sign in
staff-login-mfa-passkey = Use a passkey

## setup.html
staff-setup-title = Set up { $firm }
staff-setup-heading = Create the first administrator
staff-setup-intro = This link works once and for one hour. { staff-account-password-advice } Next you will add this account to an authenticator app.
staff-setup-profile = Your firm, as clients see it
staff-setup-profile-intro = On the client's upload page, the share page and the instruction sheet. All optional; an administrator can change them later on the Firm page.
staff-setup-logo = Logo
staff-setup-logo-help = A PNG or SVG file of at most { $max }. If this page shows an error, choose the file again.
# Followed by the names of the settings the configuration file gives.
staff-setup-configured = Set in the configuration file, which wins:
staff-setup-firm-name = Firm name
staff-setup-contact = Contact line for clients
staff-setup-contact-example = Maître Durand, +33 1 23 45 67 89
staff-setup-color = Brand colour
staff-setup-color-help = As { $format }, dark enough for white text on it (4.5:1).
staff-setup-timezone = Time zone
# Followed by an example time zone name.
staff-setup-timezone-help = Times on pages are shown in it, e.g.
staff-setup-submit = Create administrator

## setup_done.html
staff-setup-done-title = Enrol your authenticator
staff-setup-done-heading = Add Courier to your authenticator app
staff-setup-done-scan = Scan this code with your authenticator app (for example 1Password, Microsoft or Google Authenticator). It is shown only now.
# The whole sentence is the link to the sign-in page.
staff-setup-done-sign-in = Then sign in as { $email } with your password and a code from the app.

## enrol.html
staff-enrol-title = Set up your authenticator
staff-enrol-intro = Every Courier account signs in with a password and a code from an authenticator app (for example 1Password, Microsoft or Google Authenticator). Scan this code with the app for { $email }.
staff-enrol-code = Code from the app
staff-enrol-submit = Confirm

## recovery_list.html
staff-recovery-list-heading = Recovery codes
staff-recovery-list-intro = If you lose your authenticator, each of these codes signs you in once, in place of a six-digit code. Print them or keep them in your password manager: they are shown only now.

## recovery_codes.html
staff-recovery-codes-title = Recovery codes — Courier
staff-recovery-codes-heading = Your recovery codes
staff-recovery-codes-earlier = Earlier codes no longer work.

## invitation.html
staff-invitation-title = Join { $firm } on Courier
staff-invitation-reset-heading = Choose a new password
staff-invitation-reset-intro = For { $email }. This link works once. { staff-account-password-advice } Your other sessions end, and you confirm with your authenticator, passkey or a recovery code next.
staff-invitation-heading = Welcome to Courier
staff-invitation-intro = You were invited as { $email }. This link works once. { staff-account-password-advice } Next you will add this account to an authenticator app.
staff-invitation-submit = Set password

## invitation_link.html
staff-invitation-link-title = Invitation — Courier
staff-invitation-link-heading-reset = Password reset link for { $email }
staff-invitation-link-heading = Invitation for { $email }
staff-invitation-link-intro = Send this link to { $email } through a channel you trust. It works once, until { $when }, and is shown only now (a new invitation replaces it).
staff-invitation-link-field = Invitation link
staff-invitation-link-back = Back to users

## account.html
staff-account-title = Your account — Courier
staff-account-heading = Your account
staff-account-language-label = Language of your pages
staff-account-language-browser = Follow the browser's language
staff-account-language-submit = Save
staff-account-second-factor = Second factor
staff-account-totp-enrolled = Authenticator app: enrolled.
staff-account-totp-not-enrolled = Authenticator app: not enrolled.
staff-account-recovery-left = Recovery codes left: { $n }.
staff-account-recovery-new = Make new recovery codes
staff-account-recovery-old = The old ones stop working.
staff-account-passkeys = Passkeys
staff-account-passkey-added = Added
staff-account-passkey-remove = Remove
staff-account-passkeys-none = No passkeys yet. A passkey (your phone, laptop or a security key) signs you in without typing a code.
staff-account-passkey-remove-password = Your password (to remove one)
staff-account-passkey-new-name = Name of the new passkey
staff-account-passkey-name-example = Work laptop
staff-account-passkey-add = Add a passkey
staff-account-sessions = Sessions
staff-account-single-session = Signing in ends your other sessions.
staff-account-session-device = Device
staff-account-session-address = Address
staff-account-session-signed-in = Signed in
staff-account-session-last-seen = Last seen
staff-account-session-signing-in = signing in
staff-account-session-current = this session
staff-account-session-end = End
staff-account-sessions-end-others = End all other sessions
# The device of a session whose browser did not say what it is (tk("staff-account-device", device))
staff-account-device-unknown = unknown
staff-account-tokens = API tokens
# Followed by the API's path and a link to its OpenAPI description.
staff-account-tokens-intro = For scripts and document-management integrations calling
staff-account-tokens-acts-as-you = A token acts as you, within its scopes.
staff-account-tokens-scopes = Scopes
staff-account-tokens-status = Status
staff-account-tokens-expires = Expires
staff-account-token-revoke = Revoke
staff-account-tokens-none = No tokens.
staff-account-token-name-example = DMS import
staff-account-token-valid-for = Valid for
staff-account-token-make = Make token
# A token's status (tk("staff-account-token-status", status))
staff-account-token-status-active = active
staff-account-token-status-expired = expired
staff-account-token-status-revoked = revoked
staff-account-password-heading = Change password
staff-account-password-current = Current password
staff-account-password-new = New password
staff-account-password-new-again = New password again
staff-account-password-change = Change password
staff-account-password-sessions-end = Your other sessions end.

## api_token.html
staff-api-token-title = API token — Courier
staff-api-token-heading = API token “{ $name }”
staff-api-token-intro = Copy it now: it is shown only once (Courier keeps only a hash). It allows { $scopes } until { $when }.
staff-api-token-field = API token
# Followed by the header to send, in code.
staff-api-token-send-as = Send it as
staff-api-token-revoke-later = Revoke it under Account when it is no longer needed.
staff-api-token-back = Back to your account

## The firm settings page (web::firm), administrators only
staff-firm-title = Firm — Courier
staff-firm-heading = The firm as clients see it
staff-firm-intro = The name, contact line, logo and colour on the client's upload page, the share page and the instruction sheet, and the time zone of every date Courier shows or mails. A field left empty goes back to its default. Every change is recorded in the audit trail.
staff-firm-logo-now = The current logo
staff-firm-remove-logo = Remove the current logo
staff-firm-save = Save
