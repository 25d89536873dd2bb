"""The configuration files of the private Dovecot and Postfix of harness/sandbox/mailserver.py.

Owns ``MailServerConfig``: ``dovecot_config``, ``postfix_main_cf`` and ``postfix_master_cf``, the text of
each file, from the mail path's run folder, domains, ports and accounts (mixed into ``MailPath``).
"""

from __future__ import annotations

import grp
import os
import pwd
from pathlib import Path

POSTFIX_MASTER_CF = Path("/usr/share/postfix/master.cf.dist")


class MailServerConfig:
    """What the files say (mixed into ``MailPath``, which owns these attributes)."""

    domains: list[str]
    host: str
    password: str
    master_user: str
    master_password: str
    imap_port: int
    lmtp_port: int
    smtp_port: int

    @property
    def run_dir(self) -> Path:  # MailPath's
        raise NotImplementedError

    def dovecot_config(self) -> str:
        d = self.run_dir / "dovecot"
        if os.geteuid() == 0:
            internal, login = "dovecot", "dovenull"
            mail_uid, mail_gid = pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid
        else:
            internal = login = pwd.getpwuid(os.geteuid()).pw_name
            mail_uid, mail_gid = os.geteuid(), os.getegid()
        mail = self.run_dir / "mail"
        return f"""# smlite: a private Dovecot for tests (harness/sandbox/mailserver.py)
instance_name = smlite-{self.run_dir.name}
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
listen = {self.host}
protocols = imap lmtp
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_username_format = %Lu
auth_master_user_separator = *
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = {min(mail_uid, 500)}
first_valid_gid = {min(mail_gid, 500)}
mail_location = maildir:{mail}/%d/%n
mailbox_idle_check_interval = 1s
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/master-users
  master = yes
}}
passdb {{
  driver = static
  args = password={self.password}
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={mail}/%d/%n
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {self.host}
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = {self.host}
    port = {self.lmtp_port}
  }}
}}
service anvil {{
  chroot =
}}
protocol lmtp {{
  postmaster_address = postmaster@{self.domains[0]}
}}
"""

    def postfix_main_cf(self) -> str:
        p = self.run_dir / "postfix"
        return f"""# smlite: a private Postfix for tests (harness/sandbox/mailserver.py)
compatibility_level = 3.6
queue_directory = {p}/queue
data_directory = {p}/data
maillog_file = {p}/postfix.log
maillog_file_prefixes = {p}
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.smlite.test
mydomain = smlite.test
myorigin = $myhostname
inet_interfaces = {self.host}
inet_protocols = ipv4
mydestination =
local_transport = error:no local delivery here
relayhost =
relay_domains =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
virtual_mailbox_domains = {" ".join(self.domains)}
virtual_transport = lmtp:inet:{self.host}:{self.lmtp_port}
alias_maps =
alias_database =
biff = no
append_dot_mydomain = no
smtp_dns_support_level = disabled
lmtp_dns_support_level = disabled
smtpd_banner = $myhostname ESMTP smlite test Postfix
message_size_limit = 52428800
"""

    def postfix_master_cf(self) -> str:
        lines = []
        for line in POSTFIX_MASTER_CF.read_text().splitlines():
            if line.startswith("smtp ") and " inet " in f" {line} ":
                line = f"{self.host}:{self.smtp_port} inet n - n - - smtpd"
            lines.append(line)
        return "\n".join(lines) + "\n"
