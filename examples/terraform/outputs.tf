output "stack_arn" {
  value = aws_appstream_stack.main.arn
}

output "fleet_states" {
  value = {
    on_demand     = aws_appstream_fleet.on_demand.state
    always_on     = aws_appstream_fleet.always_on.state
    multi_session = aws_appstream_fleet.multi_session.state
  }
}

output "image_builder_state" {
  value = aws_appstream_image_builder.builder.state
}

output "image" {
  value = {
    arn                     = data.aws_appstream_image.base.arn
    platform                = data.aws_appstream_image.base.platform
    agent_version           = data.aws_appstream_image.base.appstream_agent_version
    released                = data.aws_appstream_image.base.public_base_image_released_date
    application_names       = [for a in data.aws_appstream_image.base.applications : a.name]
    image_builder_supported = data.aws_appstream_image.base.image_builder_supported
  }
}

output "user_arn" {
  value = aws_appstream_user.ann.arn
}
