# Every AppStream resource of the AWS provider 5.100.0 and its image data source.

locals {
  first = var.revision == 1
}

data "aws_appstream_image" "base" {
  name        = "AppStream-WinServer2022-06-17-2024"
  type        = "PUBLIC"
  most_recent = true
}

resource "aws_appstream_directory_config" "corp" {
  directory_name                          = "corp.example.com"
  organizational_unit_distinguished_names = local.first ? ["OU=AppStream,DC=corp,DC=example,DC=com"] : ["OU=AppStream,DC=corp,DC=example,DC=com", "OU=Streaming,DC=corp,DC=example,DC=com"]

  service_account_credentials {
    account_name     = "CORP\\svc-appstream"
    account_password = local.first ? "first-password" : "second-password"
  }
}

resource "aws_appstream_stack" "main" {
  name         = "tf-stack"
  display_name = local.first ? "Terraform stack" : "Terraform stack, revised"
  description  = local.first ? "made by Terraform" : "changed by Terraform"
  feedback_url = local.first ? "https://example.com/feedback" : "https://example.com/feedback/v2"
  redirect_url = local.first ? "https://example.com/bye" : "https://example.com/goodbye"

  # Provider 5.100.0 sends neither of these on update (only at create), so they stay as
  # first applied; changing them would leave a plan that never converges, against AWS too.
  embed_host_domains = ["example.com"]

  access_endpoints {
    endpoint_type = "STREAMING"
    vpce_id       = local.first ? "vpce-0123456789abcdef0" : "vpce-0fedcba9876543210"
  }

  application_settings {
    enabled        = true
    settings_group = local.first ? "tf-settings" : "tf-settings-2"
  }

  storage_connectors {
    connector_type = "HOMEFOLDERS"
  }

  storage_connectors {
    connector_type = "ONE_DRIVE"
    domains        = ["example.com"]
  }

  streaming_experience_settings {
    preferred_protocol = local.first ? "TCP" : "UDP"
  }

  user_settings {
    action     = "CLIPBOARD_COPY_FROM_LOCAL_DEVICE"
    permission = "ENABLED"
  }
  user_settings {
    action     = "CLIPBOARD_COPY_TO_LOCAL_DEVICE"
    permission = local.first ? "ENABLED" : "DISABLED"
  }
  user_settings {
    action     = "DOMAIN_PASSWORD_SIGNIN"
    permission = "ENABLED"
  }
  user_settings {
    action     = "DOMAIN_SMART_CARD_SIGNIN"
    permission = "DISABLED"
  }
  user_settings {
    action     = "FILE_DOWNLOAD"
    permission = local.first ? "ENABLED" : "DISABLED"
  }
  user_settings {
    action     = "FILE_UPLOAD"
    permission = "ENABLED"
  }
  user_settings {
    action     = "PRINTING_TO_LOCAL_DEVICE"
    permission = "ENABLED"
  }
  user_settings {
    action     = "AUTO_TIME_ZONE_REDIRECTION"
    permission = "DISABLED"
  }

  tags = {
    env      = local.first ? "dev" : "test"
    revision = tostring(var.revision)
  }
}

# On demand, joined to the directory.
resource "aws_appstream_fleet" "on_demand" {
  name          = "tf-on-demand"
  fleet_type    = "ON_DEMAND"
  image_name    = data.aws_appstream_image.base.name
  instance_type = "stream.standard.medium"
  display_name  = local.first ? "On demand" : "On demand, revised"
  description   = local.first ? "made by Terraform" : "changed by Terraform"
  stream_view   = local.first ? "APP" : "DESKTOP"

  disconnect_timeout_in_seconds      = local.first ? 900 : 1200
  idle_disconnect_timeout_in_seconds = local.first ? 600 : 300
  max_user_duration_in_seconds       = local.first ? 57600 : 36000
  enable_default_internet_access     = false

  compute_capacity {
    desired_instances = local.first ? 1 : 2
  }

  domain_join_info {
    directory_name                         = aws_appstream_directory_config.corp.directory_name
    organizational_unit_distinguished_name = "OU=AppStream,DC=corp,DC=example,DC=com"
  }

  vpc_config {
    subnet_ids         = ["subnet-0123456789abcdef0"]
    security_group_ids = ["sg-0123456789abcdef0"]
  }

  tags = {
    env = local.first ? "dev" : "test"
  }
}

# Always on, not joined.
resource "aws_appstream_fleet" "always_on" {
  name          = "tf-always-on"
  fleet_type    = "ALWAYS_ON"
  image_arn     = data.aws_appstream_image.base.arn
  instance_type = "stream.standard.large"
  description   = local.first ? "always on" : "still always on"

  compute_capacity {
    desired_instances = local.first ? 1 : 3
  }
}

# Multi-session: sessions per instance and desired sessions change while it runs.
resource "aws_appstream_fleet" "multi_session" {
  name                      = "tf-multi-session"
  fleet_type                = "ON_DEMAND"
  image_name                = data.aws_appstream_image.base.name
  instance_type             = "stream.standard.xlarge"
  max_sessions_per_instance = local.first ? 5 : 10

  compute_capacity {
    desired_sessions = local.first ? 10 : 20
  }
}

resource "aws_appstream_image_builder" "builder" {
  name = "tf-builder"
  # By ARN: DescribeImageBuilders answers the image's ARN, not its name, so a builder
  # imported later matches this configuration.
  image_arn                      = data.aws_appstream_image.base.arn
  instance_type                  = "stream.standard.large"
  description                    = "made by Terraform"
  display_name                   = "Terraform builder"
  enable_default_internet_access = false

  access_endpoint {
    endpoint_type = "STREAMING"
    vpce_id       = "vpce-0123456789abcdef0"
  }

  tags = {
    env = local.first ? "dev" : "test"
  }
}

resource "aws_appstream_user" "ann" {
  user_name               = "ann@example.com"
  authentication_type     = "USERPOOL"
  first_name              = "Ann"
  last_name               = "Example"
  enabled                 = local.first ? true : false
  send_email_notification = false
}

resource "aws_appstream_fleet_stack_association" "on_demand" {
  fleet_name = aws_appstream_fleet.on_demand.name
  stack_name = aws_appstream_stack.main.name
}

resource "aws_appstream_user_stack_association" "ann" {
  user_name               = aws_appstream_user.ann.user_name
  authentication_type     = aws_appstream_user.ann.authentication_type
  stack_name              = aws_appstream_stack.main.name
  send_email_notification = false
}
