# The staff pages of portals, notifications, alerts, users and the access review (English):
# portals.html, portal.html, portal_link.html, notifications.html, alerts.html, users.html,
# access_review.html. Every key here is also in ../fr/staff-portals.ftl, in the same order.

## Shared by these pages (staff-portals-)

staff-portals-never = never
staff-portals-documents = Documents
staff-portals-col-matter = Matter
staff-portals-col-status = Status
staff-portals-col-size = Size
staff-portals-col-when = When
staff-portals-email = Email
staff-portals-role = Role
staff-portals-mfa = MFA
staff-portals-last-sign-in = Last sign-in
# Where a portal's link stands (tk("staff-portals-status", …)); closed: its matter is archived;
# unreadable: its stored rules do not parse, so it takes nothing
staff-portals-status-active = active
staff-portals-status-disabled = disabled
staff-portals-status-expired = expired
staff-portals-status-closed = closed
staff-portals-status-deleted = deleted
staff-portals-status-unreadable = unreadable
# What a portal does with a file in which personal data was found (tk("staff-portals-dlp", …))
staff-portals-dlp-flag = flag
staff-portals-dlp-quarantine = quarantine
staff-portals-dlp-block = block
# A staff member's firm-wide role, or a member's role on a matter (tk("staff-portals-role", …))
staff-portals-role-admin = admin
staff-portals-role-attorney = attorney
staff-portals-role-paralegal = paralegal
# A second factor a staff member has enrolled (tk("staff-portals-mfa", …))
staff-portals-mfa-totp = authenticator app
staff-portals-mfa-passkey = passkey

## portals.html

staff-portals-title = Portals — Courier
staff-portals-heading = Portals
staff-portals-col-label = Label
staff-portals-col-last-upload = Last upload
staff-portals-col-expires = Expires
# A tag after a portal's label
staff-portals-passcode-tag = passcode
staff-portals-none = No portals yet.
staff-portals-new = New portal
staff-portals-label-label = Label (what the client sees)
# "General" is the name of the firm-wide matter
staff-portals-label-matter = Matter (empty: General)
staff-portals-label-expires-in = Expires in (e.g. 7d, 12h; empty: never)
staff-portals-label-max-size = Maximum file size
# $types: the firm's list of file types, e.g. "pdf, docx, xlsx"
staff-portals-label-types = Accepted file types (empty: the firm's list: { $types })
staff-portals-label-dlp = When a file contains personal data
# $action: one of the staff-portals-dlp-… words
staff-portals-dlp-firm-default = Firm default ({ $action })
staff-portals-dlp-option-flag = Accept and flag it
staff-portals-dlp-option-quarantine = Hold it until an attorney releases it
staff-portals-dlp-option-block = Refuse it and ask the client to redact
staff-portals-label-notify = When the client uploads
staff-portals-notify-on = Mail me (one mail per batch of files)
staff-portals-notify-off = Do not mail me
# Followed by a list of languages, each named in its own language
staff-portals-label-language = The client's page in
staff-portals-language-browser = The client's browser language
staff-portals-label-passcode = Passcode (optional, give it to the client separately)
staff-portals-create = Create portal

## portal.html

# Followed by the matter's name, as a link
staff-portal-matter = Matter:
staff-portal-created = Created { $created }; expires { $expires }
staff-portal-created-no-expiry = Created { $created }; expires never
staff-portal-max-size = Maximum file size { $size }
staff-portal-max-size-passcode = Maximum file size { $size }; passcode required
# $types: the accepted file types in capitals; $action: one of the staff-portals-dlp-… words
staff-portal-accepts = Accepts { $types }; personal data: { $action }
# $retention is the rule in words (e.g. 30 days); $rule says whose it is (portal, matter or firm)
staff-portal-retention = { $rule ->
    [portal] Documents stay { $retention } after upload (this portal's own rule), or until the filing grace runs out once filed; held documents stay until released.
    [matter] Documents stay { $retention } after upload (the matter's rule), or until the filing grace runs out once filed; held documents stay until released.
   *[firm] Documents stay { $retention } after upload (the firm's rule), or until the filing grace runs out once filed; held documents stay until released.
}
staff-portal-notify-on = Upload notifications: on, to { $owner }
staff-portal-notify-off = Upload notifications: off, to { $owner }
staff-portal-notify-no-owner = Upload notifications: nobody owns this portal
staff-portal-label-retention = Retention (e.g. 30d; empty: inherit)
staff-portal-set-retention = Set retention
staff-portal-locked = Too many wrong passcodes were typed for this link: it refuses every passcode until { $until }.
staff-portal-unlock = Unlock the passcode now
staff-portal-disable = Disable
staff-portal-enable = Enable
staff-portal-notify-stop = Stop upload notifications
staff-portal-notify-start = Notify the owner of uploads
staff-portal-new-link = New link (the old one stops working)
staff-portal-new-link-confirm = Issue a new link? The current link stops working at once.
staff-portal-delete-documents = Delete all documents
staff-portal-delete-documents-confirm = Shred every document of this portal that no legal hold keeps? This cannot be undone.
staff-portal-delete = Delete portal and its documents
staff-portal-delete-confirm = Delete this portal and shred its documents? This cannot be undone.
staff-portal-download-zip = Download all as one ZIP
staff-portal-reference-placeholder = DMS reference (optional)
staff-portal-reference-all-label = DMS reference for all documents
staff-portal-file-all = Mark all as filed in the DMS
staff-portal-col-name = Name
staff-portal-col-type = Type
staff-portal-col-scan = Scan
staff-portal-col-uploaded = Uploaded
staff-portal-col-shredded = Shredded
# What the scanners made of a document (tk("staff-portal-scan", …))
staff-portal-scan-clean = clean
staff-portal-scan-flagged = flagged
staff-portal-scan-quarantined = quarantined
staff-portal-scan-infected = infected
staff-portal-scan-unscanned = unscanned
# $count occurrences of a kind of personal data ($kind: one of the staff-portal-finding-… texts)
staff-portal-finding-count = { $count } × { $kind }
# Kinds of personal data found (tk("staff-portal-finding", …))
staff-portal-finding-ssn = US social security numbers
staff-portal-finding-payment_card = payment card numbers
staff-portal-finding-iban = bank account numbers (IBAN)
staff-portal-finding-fr_nir = French social security numbers (NIR)
staff-portal-finding-email = e-mail addresses
staff-portal-finding-phone = phone numbers
staff-portal-finding-keyword = terms your firm asked us to look for
staff-portal-text-unreadable = text could not be read
staff-portal-on-hold = on hold
staff-portal-shred-at = goes { $when }
staff-portal-shred-filed = filed
staff-portal-shred-retention = retention
staff-portal-filed = filed { $when }
staff-portal-filed-reference = filed { $when } ({ $reference })
staff-portal-release-confirm = Release this document for download? The reason is kept in the audit trail.
staff-portal-release-reason = Reason for release
staff-portal-release = Release
staff-portal-download = Download
staff-portal-reference-label = DMS reference for { $name }
staff-portal-mark-filed = Mark filed
staff-portal-hold-placeholder = Reason for a legal hold
staff-portal-hold-label = Reason for a legal hold on { $name }
staff-portal-hold = Hold
staff-portal-delete-document-confirm = Shred this document? This cannot be undone.
staff-portal-delete-document = Delete
staff-portal-no-documents = No documents.

## portal_link.html

staff-portal-link-title = Portal link — Courier
staff-portal-link-heading-created = Portal created: { $label }
staff-portal-link-heading-new = New link issued: { $label }
staff-portal-link-copy-now = Copy this link now.
staff-portal-link-once = Courier stores only a fingerprint of it and cannot show it again.
staff-portal-link-previous = The previous link no longer works.
staff-portal-link-label = Portal link
staff-portal-link-copy = Copy
# What the copy button says once the link is copied (ui.js reads it from data-copied)
staff-portal-link-copied = Copied
staff-portal-link-sheet-heading = Instructions for the client
staff-portal-link-sheet-intro = A one-page sheet to print or send: this link and its QR code, how to recognise a genuine link, what happens to the files and when they are deleted.
staff-portal-link-sheet-passcode = The passcode is not on it: give it to the client separately, by telephone or text message.
# Followed by a list of languages, each named in its own language
staff-portal-link-sheet-language = Language of the sheet
staff-portal-link-sheet-open = Open the sheet to print
staff-portal-link-sheet-download = Download the sheet
staff-portal-link-go = Go to the portal

## notifications.html

staff-notifications-title = Notifications — Courier
staff-notifications-heading = Notifications
staff-notifications-intro = Uploads to the portals you own, one line per batch of files (the same as the mails).
staff-notifications-mark-read = Mark all { $n } as read
staff-notifications-col-portal = Portal
staff-notifications-col-files = Files
staff-notifications-new = new
staff-notifications-none = No uploads yet.

## alerts.html

staff-alerts-title = Alerts — Courier
staff-alerts-heading = Alerts and incident response
staff-alerts-lockdown = Lockdown
staff-alerts-lockdown-on = on
staff-alerts-lockdown-off = off
# $by: who turned it on; $reason: what they typed
staff-alerts-lockdown-active = Since { $when }, by { $by }: { $reason }. Every client and share link answers "not found", uploads are refused, API tokens are refused and only administrators can sign in.
staff-alerts-lockdown-explained = Locking down closes every client and share link at once, refuses uploads in flight, ends every staff session (yours too) and refuses API tokens; only administrators can sign in until it is lifted.
# Followed by the path of the incident-response guide, in code, and a full stop
staff-alerts-lockdown-see = See
staff-alerts-label-reason = Reason (kept in the audit trail)
staff-alerts-label-password = Your password
staff-alerts-label-code = Your authenticator code (or a recovery code)
staff-alerts-lift = Lift the lockdown
staff-alerts-lock = Lock down now
staff-alerts-alerts = Alerts
# $to: the addresses alerts are mailed to; smtp_url and alert_to are setting names
staff-alerts-go-mail = Alerts go by mail to { $to }.
staff-alerts-go-mail-webhook = Alerts go by mail to { $to } and to the webhook.
staff-alerts-go-nowhere = Alerts go by mail nowhere (set smtp_url and alert_to).
staff-alerts-go-nowhere-webhook = Alerts go by mail nowhere (set smtp_url and alert_to) and to the webhook.
staff-alerts-col-alert = Alert
staff-alerts-col-what = What
staff-alerts-col-from = From
staff-alerts-col-event = Audit event
# The kind of an alert (tk("staff-alerts-kind", …))
staff-alerts-kind-link_probing = link probing
staff-alerts-kind-bulk_download = bulk download
staff-alerts-kind-account_locked = account locked
staff-alerts-kind-malware = malware
staff-alerts-kind-off_hours_sign_in = sign-in outside office hours
staff-alerts-kind-audit_broken = audit trail broken
staff-alerts-kind-lockdown = lockdown
staff-alerts-kind-audit_log_restarted = audit record restarted

## What an alert says (services::watch), on the alerts page and in its mail
alert-link-probing = { $count } requests for unknown or closed links came from one address within { $window }.
alert-bulk-download = { $token ->
    [none] { $who } downloaded { $count } documents within { $window }.
   *[other] { $who } downloaded { $count } documents within { $window } (last through API token { $token }).
}
alert-account-locked = Sign-ins as { $email } are locked after repeated failed attempts.
alert-account-locked-unknown = Sign-ins with names no account has were locked after repeated failed attempts.
alert-malware = { $outcome ->
    [refused] An upload carried malware ({ $signature }); it was refused.
   *[kept] An upload carried malware ({ $signature }); it was kept in quarantine.
}
alert-off-hours = { $who } signed in outside office hours ({ $when }).
alert-audit-broken = The audit trail failed verification at event { $seq }: { $why }
alert-lockdown-on = { $by } locked Courier down: { $reason }
alert-lockdown-off = { $by } lifted the lockdown: { $reason }
alert-audit-log-restarted = { $by } started a new heads.log (heads in the old one: { $heads }, events given up: { $lost }): { $reason }
alert-audit-log-restarted-damaged = { $by } started a new heads.log (heads in the old one: { $heads }, lines that were not signed heads: { $bad }, events given up: { $lost }): { $reason }
alert-audit-log-restarted-uncounted = { $by } started a new heads.log; the old one was missing or held no heads, so how many events were lost cannot be told: { $reason }
staff-alerts-none = No alerts.
staff-alerts-deliveries = Mails and webhooks
staff-alerts-counts = { $pending } waiting, { $failed } given up.
staff-alerts-col-queued = Queued
staff-alerts-col-channel = Channel
staff-alerts-col-about = About
staff-alerts-col-attempts = Attempts
staff-alerts-col-state = State
staff-alerts-col-last-error = Last error
# How a delivery goes out (tk("staff-alerts-channel", …))
staff-alerts-channel-mail = mail
staff-alerts-channel-webhook = webhook
# What a mail is about (tk("staff-alerts-topic", …)); webhook event names such as
# document.uploaded are shown as they are
staff-alerts-topic-alert = alert
staff-alerts-topic-upload = upload
# Where a delivery stands (tk("staff-alerts-state", …); the server's "given up" arrives as given_up)
staff-alerts-state-sent = sent
staff-alerts-state-given_up = given up
staff-alerts-state-retrying = retrying
staff-alerts-state-waiting = waiting
staff-alerts-nothing-sent = Nothing sent yet.

## users.html

staff-users-title = Users — Courier
staff-users-heading = Users
staff-users-col-sessions = Sessions
# A tag after the signed-in member's own address
staff-users-you = you
staff-users-role-of = Role of { $email }
staff-users-change = Change
# Where an account stands (tk("staff-users-status", …))
staff-users-status-active = active
staff-users-status-invited = invited
staff-users-status-disabled = disabled
staff-users-locked-until = locked until { $when }
staff-users-invitation-until = invitation until { $when }
# After the list of enrolled second factors
staff-users-recovery-codes = { $n ->
    [one] { $n } recovery code
   *[other] { $n } recovery codes
}
staff-users-enrols-next = enrols at next sign-in
staff-users-disable = Disable
staff-users-enable = Enable
staff-users-reset-mfa = Reset MFA
staff-users-reset-password = Password reset link
staff-users-end-sessions = End sessions
staff-users-unlock = Unlock
staff-users-end-all = End every session of everyone
staff-users-end-all-why = After a suspected compromise: everybody, you included, signs in again.
staff-users-verify-first = Before resetting someone's MFA or sending a password reset link, confirm who is asking the way you would before enrolment (in person or by a call to a known number).
staff-users-invite-heading = Invite someone
staff-users-invite-intro = They get a single-use link to set a password, then enrol an authenticator at their first sign-in.
staff-users-department = Department
staff-users-valid-for = Valid for
staff-users-create-invitation = Create invitation

## access_review.html

staff-access-review-title = Access review — Courier
staff-access-review-heading = Access review
staff-access-review-as-of = As of { $when }. Flags mark what a reviewer should look at.
staff-access-review-people = People
staff-access-review-col-matters = Matters
staff-access-review-col-api-tokens = API tokens
staff-access-review-col-flags = Flags
staff-access-review-disabled = disabled
staff-access-review-archived = archived
# A matter and the member's role on it, or a member and their role
staff-access-review-with-role = { $name } ({ $role })
# An API token: its name, its scopes (technical names), where it stands, when it expires
staff-access-review-token = { $name } ({ $scopes }; { $status }, expires { $when })
# Where an API token stands (tk("staff-access-review-token-status", …))
staff-access-review-token-status-active = active
staff-access-review-token-status-expired = expired
staff-access-review-token-status-revoked = revoked
# What a reviewer should look at (tk("staff-access-review-flag", …)); some are followed by an id
staff-access-review-flag-never_signed_in = never signed in
staff-access-review-flag-no_sign_in_for_90_days = no sign-in for 90 days
staff-access-review-flag-mfa_not_enrolled = MFA not enrolled
staff-access-review-flag-member_of_archived_matter = member of an archived matter
staff-access-review-flag-archived_with_members = archived with members
staff-access-review-flag-portal_without_expiry = portal without expiry
staff-access-review-flag-share_without_expiry = share without expiry
staff-access-review-matters = Matters
staff-access-review-col-sensitivity = Sensitivity
staff-access-review-col-members = Members
staff-access-review-col-portals = Active portals
staff-access-review-col-shares = Active shares
staff-access-review-col-last-review = Last review
# A matter's sensitivity (tk("staff-access-review-sensitivity", …))
staff-access-review-sensitivity-normal = normal
staff-access-review-sensitivity-confidential = confidential
staff-access-review-sensitivity-restricted = restricted
# An active portal (its label) or share (its recipient), and when it expires
staff-access-review-expires = { $name } (expires { $when })
staff-access-review-no-expiry = { $name } (expires never)
