# What the server itself says to staff (not a template's text). Every key here is also in
# ../fr/staff.ftl; a test fails when one is missing.

## One-time notices (web::templates::Templates::notice)
staff-notice-sessions-ended = { $n ->
    [one] You were still signed in elsewhere; that session has now ended.
   *[other] You were still signed in elsewhere; those { $n } sessions have now ended.
}

## Signing in (web::auth)
staff-login-wrong = The email or password is not right.
staff-mfa-wrong = That code is not right, or was used already.
staff-enrol-wrong = That code is not right. Scan the new code below and try again.
staff-passwords-differ = The two passwords differ.

## Error pages of the staff side (web::errors); the client pages have their own title
staff-error-title = That did not work
error-not-found = There is nothing here, or you may not see it.
error-forbidden = You may not do that. Ask an administrator if you need to.
error-unauthenticated = Please sign in first.

## The mail to a portal's owner when a client has sent files (services::watch::delivery)
mail-upload-files = { $files ->
    [one] 1 new file
   *[other] { $files } new files
}
mail-upload-subject = { mail-upload-files } in { $label }
mail-upload-body =
    A client sent { mail-upload-files } ({ $size } in all) to the portal
    "{ $label }".

    Received between { $from } and { $to }.

    Open the portal: { $link }

    This message names no file and holds nothing the client typed:
    sign in to see the documents.

## An alert's mail, when `alert_language` is not English (services::watch); $kind is the alert's
## name, $what its sentence, $from who and from where, $event the audit event's number
mail-alert-from = { $actor } at { $ip }
mail-alert-no-event = none (the trail takes no new events while it is broken)
mail-alert-subject = [Courier alert] { $kind }: { $what }
mail-alert-body =
    Courier raised an alert.

    Alert: { $kind }
    What: { $what }
    When: { $when }
    From: { $from }
    Audit event: { $event }

    Review it: { $link }

## The buttons around the client's instruction sheet (web::instructions), in the lawyer's language
staff-sheet-nav = Sheet
staff-sheet-print = Print or save as PDF
staff-sheet-download = Download as a file
staff-sheet-back = Back to the portal
## The links under a long list of documents (templates/pager.html)
staff-pages-label = Pages of documents
staff-pages-newest = Newest documents
staff-pages-older = Older documents
## Refusals the service gives staff (said in the member's language; the API and the CLI keep English)
staff-refused-label = the label must be 1 to { $max } characters, without control characters
staff-refused-expiry-past = the expiry must be in the future
staff-refused-max-size = the maximum file size must be positive
staff-refused-passcode-short = a passcode needs at least { $min } characters
staff-refused-passcode-long = the passcode is too long
staff-refused-matter-name = the matter must be 1 to { $max } characters
staff-refused-no-matter = there is no matter “{ $name }” that you can use; open it under Matters first, or ask to be added to it
staff-refused-no-type = a portal must accept at least one file type
staff-refused-no-member = there is no active staff member { $email }
staff-refused-invitation-long = an invitation may last at most 30 days
staff-refused-user-exists = a user with this email exists
staff-refused-not-accepted = this person has not accepted their invitation; invite them again
staff-refused-last-admin = this is the last enabled administrator; make another admin first
staff-refused-password-wrong = your password is not right
staff-refused-email = that is not a valid email address
staff-refused-password-short = the password needs at least { $min } characters
staff-refused-password-long = the password may have at most { $max } characters
staff-refused-password-email = the password must not contain your email name
staff-refused-unknown-matter = there is no matter “{ $name }”
staff-refused-matter-exists = a matter with that name exists
staff-refused-no-account = there is no staff account { $email }
staff-refused-own-membership = you cannot change your own membership of a matter; use break glass (with a reason) or ask another administrator
staff-refused-restricted-members = only attorneys of a restricted matter change who is on it; use break glass (with a reason) to read it, or ask one of its attorneys or the operator
staff-refused-archive-general = the General matter cannot be archived
staff-refused-break-glass-long = break glass lasts at most 24 hours
staff-refused-recipient = the recipient must be 1 to { $max } characters, without control characters
staff-refused-download-limit = the download limit must be at least 1
staff-refused-share-size = a share carries 1 to { $max } documents
staff-refused-share-passcode = a passcode needs { $min } to 1024 characters
staff-refused-share-revoked = this share is revoked already
staff-refused-under-hold = this document is under a legal hold ({ $reason }); release the hold first
staff-refused-hold-shredded = this document is already shredded; there is nothing to hold
staff-refused-hold-released = this hold is released already
staff-refused-no-document = name at least one document
staff-refused-token-scope = a token needs at least one scope
staff-refused-token-long = a token may last at most a year
staff-refused-token-revoked = this token is revoked already
staff-refused-passkey-restart = start the registration again
staff-refused-passkey-exists = this passkey is registered already
staff-refused-no-passkey = no passkey is registered for this account
staff-refused-not-size = “{ $input }” is not a size (for example 500KB, 100MiB, 2GiB)
staff-refused-not-duration = “{ $input }” is not a duration (for example 30m, 12h, 7d)
staff-refused-not-time = “{ $input }” is not a date and time
staff-refused-unknown-type = “{ $name }” is not a file type Courier knows (it knows: { $known })
staff-refused-download-limit-number = the download limit must be a number
staff-refused-text-field = the { $field } must be { $min } to { $max } characters, without control or invisible formatting characters
staff-field-reason = reason
staff-field-department = department
staff-field-token-name = token name
staff-field-matter-name = matter name
staff-field-passkey-name = passkey name
staff-field-dms-reference = DMS reference
staff-refused-setting-line = { $setting } must be one line of at most { $max } characters
staff-refused-timezone = “{ $value }” is not a time zone name (for example Europe/Paris)
staff-refused-colour = “{ $value }” is not a colour like #1f4fa3
staff-refused-archive-empty = this portal has no documents to download
staff-refused-sheet-link = that is not this portal's current link; instructions are printed from the page that shows a new link
staff-refused-sheet-closed = this portal's link does not work now (disabled, expired, its matter archived, or the installation locked down); enable it or issue a new link before printing instructions
staff-refused-review-text = the { $field } text must be at most { $max } characters
staff-field-review-removed = removed
staff-field-review-note = note
staff-refused-logo-size = the logo is larger than { $max }, the most accepted
staff-refused-logo-type = the logo is neither a PNG nor an SVG file
staff-refused-colour-light = { $value } is too light: white text on it has a contrast of { $contrast }:1, and clients need at least 4.5:1 to read it; choose a darker shade
staff-refused-lockdown-on = lockdown is on already
staff-refused-lockdown-off = lockdown is off already
staff-refused-code-wrong = the code is wrong (or already used)
staff-refused-release-reason = give a reason of 1 to { $max } characters for releasing the document
staff-refused-not-held = this document is not held
staff-refused-share-no-document = there is no document { $id } in this matter
staff-refused-share-held = { $name } is held and cannot be shared
staff-refused-share-findings = { $name } contains personal data ({ $findings }); confirm that it may be shared
staff-refused-share-watermark-size = { $name } is larger than can be watermarked ({ $max } at most)
staff-refused-account-locked = Too many failed sign-ins: this account is locked until { $until }. An administrator can unlock it sooner.
staff-refused-upload-locked-down = Courier is locked down: no upload is taken until it is lifted.
staff-refused-held = this document is held ({ $status }) and can be downloaded only after an attorney releases it
staff-refused-not-shredded = this document is not shredded; a certificate exists only once it is
staff-refused-certificate-predates = this document was shredded before Courier issued certificates (its event names no reason)
staff-refused-passkeys-off = passkeys need a public_url with a host name (not an IP address); ask the IT administrator
staff-refused-passkey = the passkey was not accepted; try again, or use another passkey
staff-refused-password-weak = this password is too easy to guess. A few unrelated words make a strong one.
staff-refused-unknown-scope = “{ $input }” is not a token scope (the scopes are: { $known })
staff-refused-unknown-word = “{ $input }” is not one of the choices ({ $known })
staff-refused-page-limit = the number of rows per page must be from 1 to { $max }
staff-refused-page-cursor = that is not a page of this list; go back to its first page
staff-refused-field-twice = the form gives “{ $name }” twice
staff-refused-exists = this exists already
