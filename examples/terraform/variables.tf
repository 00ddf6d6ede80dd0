variable "endpoint" {
  description = "The emulator's address."
  type        = string
  default     = "http://localhost:4599"
}

variable "revision" {
  description = "1 for the first apply; 2 changes every attribute the provider updates in place."
  type        = number
  default     = 1
}
