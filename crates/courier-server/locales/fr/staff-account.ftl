# Les pages du personnel pour se connecter et gérer son propre compte (français) : la barre
# d’en-tête, la connexion, la mise en service, l’application d’authentification, les codes de
# secours, les invitations, la page du compte et les jetons d’API. Chaque clé figure aussi dans
# ../en/staff-account.ftl, dans le même ordre.

## Communs aux pages de ce groupe (staff-account-)
staff-account-email = Adresse e-mail
staff-account-password = Mot de passe
staff-account-password-again = Confirmation du mot de passe
staff-account-your-password = Votre mot de passe
staff-account-continue = Continuer
staff-account-never = jamais
staff-account-name = Nom
staff-account-last-used = Dernière utilisation
staff-account-key-by-hand = Ou saisissez cette clé à la main :
staff-account-password-advice = Choisissez un mot de passe long (au moins 12 caractères ; quelques mots sans rapport entre eux font l’affaire).
# Le script des boutons de clé d’accès (passkeys.js) les lit dans la page.
staff-account-passkey-rejected = La clé d’accès n’a pas été acceptée.
staff-account-passkey-default-name = Clé d’accès
# Le rôle d’un membre du personnel dans tout le cabinet (tk("staff-account-role", role))
staff-account-role-admin = administrateur
staff-account-role-attorney = avocat
staff-account-role-paralegal = assistant juridique

## layout.html (la barre d’en-tête des pages du personnel)
staff-layout-nav-matters = Dossiers
staff-layout-nav-portals = Portails
staff-layout-nav-holds = Conservations légales
staff-layout-nav-notifications = Notifications
staff-layout-nav-users = Utilisateurs
staff-layout-nav-access-review = Revue des accès
staff-layout-nav-alerts = Alertes
staff-layout-nav-firm = Cabinet
staff-layout-nav-account = Compte
staff-layout-sign-out = Se déconnecter

## login.html
staff-login-title = Connexion — { $firm }
staff-login-heading = Connexion
staff-login-locked-down = Courier est en verrouillage d’urgence : seuls les administrateurs peuvent se connecter jusqu’à sa levée.
staff-login-passkey = Se connecter plutôt avec une clé d’accès

## login_mfa.html
staff-login-mfa-title = Code de vérification
staff-login-mfa-intro = Saisissez le code à six chiffres de votre application d’authentification. Vous l’avez perdue ? Saisissez plutôt l’un de vos codes de secours (chacun ne sert qu’une fois).
staff-login-mfa-code = Code
staff-login-mfa-submit = Se connecter
staff-login-mfa-passkey = Utiliser une clé d’accès

## setup.html
staff-setup-title = Mise en service de { $firm }
staff-setup-heading = Créer le premier administrateur
staff-setup-intro = Ce lien ne fonctionne qu’une fois, pendant une heure. { staff-account-password-advice } Vous ajouterez ensuite ce compte à une application d’authentification.
staff-setup-profile = Votre cabinet, tel que le voient les clients
staff-setup-profile-intro = Sur la page de dépôt du client, la page de partage et la fiche d’instructions. Tout est facultatif ; un administrateur pourra les modifier par la suite sur la page Cabinet.
staff-setup-logo = Logo
staff-setup-logo-help = Un fichier PNG ou SVG de { $max } au plus. Si cette page affiche une erreur, choisissez de nouveau le fichier.
# Suivi des noms des paramètres que donne le fichier de configuration.
staff-setup-configured = Défini dans le fichier de configuration, qui l’emporte :
staff-setup-firm-name = Nom du cabinet
staff-setup-contact = Ligne de contact pour les clients
staff-setup-contact-example = Maître Durand, +33 1 23 45 67 89
staff-setup-color = Couleur de la marque
staff-setup-color-help = Au format { $format }, assez foncée pour qu’un texte blanc s’y lise (contraste de 4,5:1).
staff-setup-timezone = Fuseau horaire
# Suivi d’un exemple de nom de fuseau horaire.
staff-setup-timezone-help = Les heures sont affichées dans ce fuseau sur les pages, par exemple
staff-setup-submit = Créer l’administrateur

## setup_done.html
staff-setup-done-title = Configurer votre application d’authentification
staff-setup-done-heading = Ajouter Courier à votre application d’authentification
staff-setup-done-scan = Scannez ce code avec votre application d’authentification (par exemple 1Password, Microsoft Authenticator ou Google Authenticator). Il n’est affiché que maintenant.
# La phrase entière est le lien vers la page de connexion.
staff-setup-done-sign-in = Connectez-vous ensuite en tant que { $email } avec votre mot de passe et un code de l’application.

## enrol.html
staff-enrol-title = Configurer votre application d’authentification
staff-enrol-intro = Chaque compte Courier se connecte avec un mot de passe et un code d’une application d’authentification (par exemple 1Password, Microsoft Authenticator ou Google Authenticator). Scannez ce code avec l’application pour { $email }.
staff-enrol-code = Code de l’application
staff-enrol-submit = Confirmer

## recovery_list.html
staff-recovery-list-heading = Codes de secours
staff-recovery-list-intro = Si vous perdez votre application d’authentification, chacun de ces codes vous connecte une fois, à la place d’un code à six chiffres. Imprimez-les ou conservez-les dans votre gestionnaire de mots de passe : ils ne sont affichés que maintenant.

## recovery_codes.html
staff-recovery-codes-title = Codes de secours — Courier
staff-recovery-codes-heading = Vos codes de secours
staff-recovery-codes-earlier = Les codes précédents ne fonctionnent plus.

## invitation.html
staff-invitation-title = Rejoindre { $firm } sur Courier
staff-invitation-reset-heading = Choisissez un nouveau mot de passe
staff-invitation-reset-intro = Pour { $email }. Ce lien ne fonctionne qu’une fois. { staff-account-password-advice } Vos autres sessions sont fermées, puis vous confirmez avec votre application d’authentification, une clé d’accès ou un code de secours.
staff-invitation-heading = Bienvenue sur Courier
staff-invitation-intro = Vous avez été invité en tant que { $email }. Ce lien ne fonctionne qu’une fois. { staff-account-password-advice } Vous ajouterez ensuite ce compte à une application d’authentification.
staff-invitation-submit = Définir le mot de passe

## invitation_link.html
staff-invitation-link-title = Invitation — Courier
staff-invitation-link-heading-reset = Lien de réinitialisation du mot de passe pour { $email }
staff-invitation-link-heading = Invitation pour { $email }
staff-invitation-link-intro = Envoyez ce lien à { $email } par un canal de confiance. Il ne fonctionne qu’une fois, jusqu’au { $when }, et n’est affiché que maintenant (une nouvelle invitation le remplace).
staff-invitation-link-field = Lien d’invitation
staff-invitation-link-back = Retour aux utilisateurs

## account.html
staff-account-title = Votre compte — Courier
staff-account-heading = Votre compte
staff-account-language-label = Langue de vos pages
staff-account-language-browser = Suivre la langue du navigateur
staff-account-language-submit = Enregistrer
staff-account-second-factor = Second facteur
staff-account-totp-enrolled = Application d’authentification : configurée.
staff-account-totp-not-enrolled = Application d’authentification : non configurée.
staff-account-recovery-left = Codes de secours restants : { $n }.
staff-account-recovery-new = Générer de nouveaux codes de secours
staff-account-recovery-old = Les anciens cessent de fonctionner.
staff-account-passkeys = Clés d’accès
staff-account-passkey-added = Ajout
staff-account-passkey-remove = Supprimer
staff-account-passkeys-none = Aucune clé d’accès pour l’instant. Une clé d’accès (votre téléphone, votre ordinateur portable ou une clé de sécurité) vous connecte sans saisir de code.
staff-account-passkey-remove-password = Votre mot de passe (pour en supprimer une)
staff-account-passkey-new-name = Nom de la nouvelle clé d’accès
staff-account-passkey-name-example = Ordinateur portable du bureau
staff-account-passkey-add = Ajouter une clé d’accès
staff-account-sessions = Sessions
staff-account-single-session = Une nouvelle connexion ferme vos autres sessions.
staff-account-session-device = Appareil
staff-account-session-address = Adresse
staff-account-session-signed-in = Connexion
staff-account-session-last-seen = Dernière activité
staff-account-session-signing-in = connexion en cours
staff-account-session-current = cette session
staff-account-session-end = Fermer
staff-account-sessions-end-others = Fermer toutes les autres sessions
# L’appareil d’une session dont le navigateur n’a pas dit ce qu’il est (tk("staff-account-device", device))
staff-account-device-unknown = inconnu
staff-account-tokens = Jetons d’API
# Suivi du chemin de l’API et d’un lien vers sa description OpenAPI.
staff-account-tokens-intro = Pour les scripts et les intégrations de gestion documentaire qui appellent
staff-account-tokens-acts-as-you = Un jeton agit en votre nom, dans les limites de ses portées.
staff-account-tokens-scopes = Portées
staff-account-tokens-status = Statut
staff-account-tokens-expires = Expiration
staff-account-token-revoke = Révoquer
staff-account-tokens-none = Aucun jeton.
staff-account-token-name-example = Import GED
staff-account-token-valid-for = Durée de validité
staff-account-token-make = Créer le jeton
# L’état d’un jeton (tk("staff-account-token-status", status))
staff-account-token-status-active = actif
staff-account-token-status-expired = expiré
staff-account-token-status-revoked = révoqué
staff-account-password-heading = Changer de mot de passe
staff-account-password-current = Mot de passe actuel
staff-account-password-new = Nouveau mot de passe
staff-account-password-new-again = Confirmation du nouveau mot de passe
staff-account-password-change = Changer de mot de passe
staff-account-password-sessions-end = Vos autres sessions sont fermées.

## api_token.html
staff-api-token-title = Jeton d’API — Courier
staff-api-token-heading = Jeton d’API « { $name } »
staff-api-token-intro = Copiez-le maintenant : il n’est affiché qu’une fois (Courier n’en conserve qu’une empreinte). Il autorise { $scopes } jusqu’au { $when }.
staff-api-token-field = Jeton d’API
# Suivi de l’en-tête à envoyer, en code.
staff-api-token-send-as = Envoyez-le sous la forme
staff-api-token-revoke-later = Révoquez-le depuis la page Compte dès qu’il n’est plus nécessaire.
staff-api-token-back = Retour à votre compte

## La page des réglages du cabinet (web::firm), pour les administrateurs
staff-firm-title = Cabinet — Courier
staff-firm-heading = Le cabinet tel que le voient ses clients
staff-firm-intro = Le nom, la ligne de contact, le logo et la couleur de la page de dépôt du client, de la page de partage et de la fiche d’instructions, et le fuseau horaire de toutes les dates que Courier affiche ou envoie. Un champ laissé vide revient à sa valeur par défaut. Chaque modification est consignée dans le journal d’audit.
staff-firm-logo-now = Le logo actuel
staff-firm-remove-logo = Retirer le logo actuel
staff-firm-save = Enregistrer
